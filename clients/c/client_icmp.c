/* ICMP echo client (what ping does) with BSD sockets: a raw socket
 * (SOCK_RAW, IPPROTO_ICMP; needs CAP_NET_RAW) sends one echo request (type 8)
 * carrying the message, with the process id as its identifier and sequence
 * number 1; the host's kernel answers, there is no server program. A raw
 * socket gets a copy of every ICMP packet that arrives, IP header first: on
 * loopback the request itself too, so recvfrom() is called until the echo
 * reply (type 0) with our identifier and sequence. Its data is written to
 * stdout unchanged.
 * Usage: client_icmp HOST MESSAGE */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

/* The Internet checksum (RFC 1071). */
static uint16_t checksum(const unsigned char *p, size_t len)
{
    uint32_t sum = 0;
    for (; len > 1; p += 2, len -= 2)
        sum += (uint32_t)(p[0] << 8 | p[1]);
    if (len)
        sum += (uint32_t)(p[0] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return htons((uint16_t)~sum);
}

int main(int argc, char *argv[])
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s HOST MESSAGE\n", argv[0]);
        return 1;
    }
    const char *msg = argv[2];
    size_t len = strlen(msg);
    if (len > 65000) {
        fprintf(stderr, "message too long\n");
        return 1;
    }

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
        fprintf(stderr, "invalid address: %s\n", argv[1]);
        return 1;
    }

    static unsigned char out[65536], in[65536];
    uint16_t ident = (uint16_t)getpid(), seq = 1;
    struct icmphdr *req = (struct icmphdr *)out;
    req->type = ICMP_ECHO;
    req->code = 0;
    req->checksum = 0;
    req->un.echo.id = htons(ident);
    req->un.echo.sequence = htons(seq);
    memcpy(out + sizeof *req, msg, len);
    req->checksum = checksum(out, sizeof *req + len);

    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    if (fd < 0) {
        perror("socket");
        exit(1);
    }
    if (sendto(fd, out, sizeof *req + len, 0, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("sendto");
        exit(1);
    }

    const unsigned char *data;
    ssize_t data_len;
    for (;;) {
        ssize_t n = recvfrom(fd, in, sizeof in, 0, NULL, NULL);
        if (n < 0) {
            perror("recvfrom");
            exit(1);
        }
        size_t ihl = (size_t)(in[0] & 0x0f) * 4;  /* a raw socket gets the IP header too */
        if ((size_t)n < ihl + sizeof(struct icmphdr))
            continue;
        const struct icmphdr *rep = (const struct icmphdr *)(in + ihl);
        if (rep->type == ICMP_ECHOREPLY && ntohs(rep->un.echo.id) == ident &&
            ntohs(rep->un.echo.sequence) == seq) {
            data = in + ihl + sizeof *rep;
            data_len = n - (ssize_t)(ihl + sizeof *rep);
            break;
        }
    }

    if (close(fd) < 0) {
        perror("close");
        exit(1);
    }
    if (fwrite(data, 1, (size_t)data_len, stdout) != (size_t)data_len) {
        perror("fwrite");
        exit(1);
    }
    return 0;
}
