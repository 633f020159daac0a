/* What every C habit program (tests/habits/servers/NAME/server.c,
 * tests/habits/clients/NAME/client.c) shares: the parts the reference's echo does too.
 * A program includes it first ("../../habit.h", relative to the source: no -I needed),
 * or right after <liburing.h>, which turns on the io_uring helpers at the end. What makes
 * a habit stays written out in its program; only these helpers live here. */
#ifndef HABIT_H
#define HABIT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* perror(what), then exit 1 */
static inline void die(const char *what)
{
    perror(what);
    exit(1);
}

/* exit 1 with "usage: PROG ARGS" unless argc is n (the program's name included) */
static inline void need_args(int argc, char *argv[], int n, const char *args)
{
    if (argc != n) {
        fprintf(stderr, "usage: %s %s\n", argv[0], args);
        exit(1);
    }
}

/* HOST (IPv6 when it has a ':', else IPv4) and PORT into *addr; returns its length */
static inline socklen_t address(const char *host, const char *port,
                                struct sockaddr_storage *addr)
{
    memset(addr, 0, sizeof *addr);
    in_port_t net_port = htons((unsigned short)atoi(port));
    if (strchr(host, ':') != NULL) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = net_port;
        if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1)
            return sizeof *in6;
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)addr;
        in->sin_family = AF_INET;
        in->sin_port = net_port;
        if (inet_pton(AF_INET, host, &in->sin_addr) == 1)
            return sizeof *in;
    }
    fprintf(stderr, "invalid address: %s\n", host);
    exit(1);
}

/* bind fd to HOST:PORT, then listen (backlog SOMAXCONN): the reference's steps 2 and 3 */
static inline void bind_and_listen(int fd, const char *host, const char *port)
{
    struct sockaddr_storage addr;
    socklen_t len = address(host, port, &addr);
    if (bind(fd, (struct sockaddr *)&addr, len) < 0)
        die("bind");
    if (listen(fd, SOMAXCONN) < 0)
        die("listen");
}

/* socket, bind HOST:PORT, listen: the reference's first three steps; the listener */
static inline int listen_on(const char *host, const char *port)
{
    struct sockaddr_storage addr;
    address(host, port, &addr);
    int fd = socket(addr.ss_family, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket");
    bind_and_listen(fd, host, port);
    return fd;
}

/* accept one connection on listener (the peer's address into a struct sockaddr_in) */
static inline int accept_one(int listener)
{
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    int fd = accept(listener, (struct sockaddr *)&peer, &len);
    if (fd < 0)
        die("accept");
    return fd;
}

/* socket and connect to HOST:PORT, the reference client's first two steps; the socket */
static inline int connect_to(const char *host, const char *port)
{
    struct sockaddr_storage addr;
    socklen_t len = address(host, port, &addr);
    int fd = socket(addr.ss_family, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket");
    if (connect(fd, (struct sockaddr *)&addr, len) < 0)
        die("connect");
    return fd;
}

/* send all n bytes of buf, send() after send() */
static inline void send_all(int fd, const char *buf, size_t n)
{
    size_t sent = 0;
    while (sent < n) {
        ssize_t w = send(fd, buf + sent, n - sent, 0);
        if (w < 0)
            die("send");
        sent += (size_t)w;
    }
}

/* the reference's echo: one receive of up to 4096 bytes, sent back whole */
static inline void echo(int fd)
{
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0)
        die("recv");
    send_all(fd, buf, (size_t)n);
}

/* close(fd), or exit 1 */
static inline void close_or_die(int fd)
{
    if (close(fd) < 0)
        die("close");
}

/* write the n bytes of buf to stdout and flush them, or exit 1 */
static inline void print_all(const char *buf, size_t n)
{
    if (fwrite(buf, 1, n, stdout) != n || fflush(stdout) != 0)
        die("write");
}

/* the reference client's end: recv until len bytes came back or the peer closed, close, print */
static inline void receive_and_print(int fd, size_t len)
{
    char *buf = malloc(len + 1);
    if (buf == NULL)
        die("malloc");
    size_t received = 0;
    while (received < len) {
        ssize_t r = recv(fd, buf + received, len - received, 0);
        if (r < 0)
            die("recv");
        if (r == 0)
            break;
        received += (size_t)r;
    }
    close_or_die(fd);
    print_all(buf, received);
    free(buf);
}

/* waitpid(child); the exit status for main: 0 if the child exited 0, else 1 */
static inline int reap(pid_t child)
{
    int status;
    if (waitpid(child, &status, 0) < 0)
        die("waitpid");
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

#ifdef LIB_URING_H /* <liburing.h> came first: the io_uring programs' helpers */

/* submit the ring's prepared SQE, wait for its completion: its result (exit 1 on an error) */
static inline int uring_run(struct io_uring *ring, const char *what)
{
    int ret = io_uring_submit(ring);
    if (ret < 0) {
        fprintf(stderr, "io_uring_submit (%s): %s\n", what, strerror(-ret));
        exit(1);
    }
    struct io_uring_cqe *cqe;
    ret = io_uring_wait_cqe(ring, &cqe);
    if (ret < 0) {
        fprintf(stderr, "io_uring_wait_cqe (%s): %s\n", what, strerror(-ret));
        exit(1);
    }
    int res = cqe->res;
    io_uring_cqe_seen(ring, cqe);
    if (res < 0) {
        fprintf(stderr, "%s: %s\n", what, strerror(-res));
        exit(1);
    }
    return res;
}

/* the ring's next free SQE, its user data set to tag (exit 1 if the queue is full) */
static inline struct io_uring_sqe *uring_sqe(struct io_uring *ring, unsigned long long tag)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
    if (!sqe) {
        fprintf(stderr, "io_uring_get_sqe: submission queue full\n");
        exit(1);
    }
    io_uring_sqe_set_data64(sqe, tag);
    return sqe;
}

#endif /* LIB_URING_H */

#endif /* HABIT_H */
