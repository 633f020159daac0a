/* Unix domain socket echo server with BSD sockets: binds an AF_UNIX stream
 * socket to PATH, accepts one connection, echoes one receive back, closes,
 * removes the socket file and exits. Usage: server_unix PATH */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PATH\n", argv[0]);
        return 1;
    }
    const char *path = argv[1];

    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr.sun_path) {
        fprintf(stderr, "socket path too long: %s\n", path);
        return 1;
    }
    strcpy(addr.sun_path, path);

    int listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (listen_fd < 0) {
        perror("socket");
        exit(1);
    }
    /* bind() creates the socket file. */
    if (bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("bind");
        exit(1);
    }
    if (listen(listen_fd, SOMAXCONN) < 0) {
        perror("listen");
        exit(1);
    }

    /* A Unix socket peer has no useful address: pass NULL. */
    int conn_fd = accept(listen_fd, NULL, NULL);
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
    /* Closing the socket leaves its file behind: remove it. */
    if (unlink(path) < 0) {
        perror("unlink");
        exit(1);
    }
    return 0;
}
