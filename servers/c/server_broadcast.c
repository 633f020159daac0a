/* UDP broadcast echo server with BSD sockets: a SOCK_DGRAM socket bound to
 * INADDR_ANY (0.0.0.0) on the port, so that a datagram sent to a broadcast
 * address reaches it; receives one datagram with recvfrom(), sends it back
 * with sendto() to the address it came from (the client's own), then exits.
 * Usage: server_broadcast PORT */
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
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 1;
    }

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)atoi(argv[1]));
    addr.sin_addr.s_addr = htonl(INADDR_ANY);

    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        perror("socket");
        exit(1);
    }
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("bind");
        exit(1);
    }

    static char buf[65536];
    struct sockaddr_in peer;
    socklen_t peer_len = sizeof peer;
    ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&peer, &peer_len);
    if (n < 0) {
        perror("recvfrom");
        exit(1);
    }

    /* The answer goes to the sender's own address, not to the broadcast one. */
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
