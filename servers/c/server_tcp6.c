/* TCP echo server over IPv6 with BSD sockets: the tcp server with an
 * AF_INET6 socket and a struct sockaddr_in6. Accepts one connection, echoes
 * one receive back, then exits. Usage: server_tcp6 HOST PORT */
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

    struct sockaddr_in6 addr;
    memset(&addr, 0, sizeof addr);
    addr.sin6_family = AF_INET6;
    addr.sin6_port = htons((unsigned short)atoi(argv[2]));
    if (inet_pton(AF_INET6, argv[1], &addr.sin6_addr) != 1) {
        fprintf(stderr, "invalid IPv6 address: %s\n", argv[1]);
        return 1;
    }

    int listen_fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (listen_fd < 0) {
        perror("socket");
        exit(1);
    }
    if (bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("bind");
        exit(1);
    }
    if (listen(listen_fd, SOMAXCONN) < 0) {
        perror("listen");
        exit(1);
    }

    struct sockaddr_in6 client;
    socklen_t client_len = sizeof client;
    int conn_fd = accept(listen_fd, (struct sockaddr *)&client, &client_len);
    if (conn_fd < 0) {
        perror("accept");
        exit(1);
    }

    char buf[4096];
    ssize_t n = recv(conn_fd, buf, sizeof buf, 0);
    if (n < 0) {
        perror("recv");
        exit(1);
    }

    /* Send back everything that was received. */
    ssize_t sent = 0;
    while (sent < n) {
        ssize_t w = send(conn_fd, buf + sent, (size_t)(n - sent), 0);
        if (w < 0) {
            perror("send");
            exit(1);
        }
        sent += w;
    }

    if (close(conn_fd) < 0) {
        perror("close");
        exit(1);
    }
    if (close(listen_fd) < 0) {
        perror("close");
        exit(1);
    }
    return 0;
}
