/* UDP echo server with BSD sockets: receives one datagram with recvfrom(),
 * sends it back with sendto() to the address it came from, then exits.
 * Usage: server_udp HOST PORT */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
        return 1;
    }

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
        fprintf(stderr, "invalid address: %s\n", argv[1]);
        return 1;
    }

    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        perror("socket");
        exit(1);
    }
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("bind");
        exit(1);
    }

    /* A datagram arrives whole: one recvfrom() gets it and its sender. */
    static char buf[65536];
    struct sockaddr_in peer;
    socklen_t peer_len = sizeof peer;
    ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&peer, &peer_len);
    if (n < 0) {
        perror("recvfrom");
        exit(1);
    }

    /* ...and one sendto() sends it back whole, or fails. */
    if (sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, peer_len) < 0) {
        perror("sendto");
        exit(1);
    }

    if (close(fd) < 0) {
        perror("close");
        exit(1);
    }
    return 0;
}
