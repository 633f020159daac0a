/* TCP echo client for a session of several messages, with BSD sockets.
 * Usage: client_session HOST PORT MESSAGE SIZES
 *
 * SIZES is a comma-separated list of byte counts; message k is MESSAGE
 * repeated and cut to SIZES[k] bytes. Each message is sent whole and its
 * echo received in full before the next one is sent. Everything received is
 * written to stdout unchanged at the end. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_MESSAGES 64

/* send() may write less than asked: loop until all of it is sent. */
static void send_all(int fd, const char *data, size_t len)
{
    size_t sent = 0;
    while (sent < len) {
        ssize_t w = send(fd, data + sent, len - sent, 0);
        if (w < 0) {
            perror("send");
            exit(1);
        }
        sent += (size_t)w;
    }
}

/* recv() may return part of the echo: loop until len bytes are here or the
 * server closes the connection (recv returns 0). Returns the count. */
static size_t recv_all(int fd, char *buf, size_t len)
{
    size_t received = 0;
    while (received < len) {
        ssize_t r = recv(fd, buf + received, len - received, 0);
        if (r < 0) {
            perror("recv");
            exit(1);
        }
        if (r == 0)
            break;
        received += (size_t)r;
    }
    return received;
}

int main(int argc, char *argv[])
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s HOST PORT MESSAGE SIZES\n", argv[0]);
        return 1;
    }
    const char *message = argv[3];
    size_t len = strlen(message);
    if (len == 0) {
        fprintf(stderr, "MESSAGE must not be empty\n");
        return 1;
    }

    /* Parse SIZES ("14,1000,100000"): the total and the longest. */
    size_t sizes[MAX_MESSAGES], count = 0, total = 0, longest = 0;
    for (char *p = argv[4];;) {
        char *end;
        unsigned long size = strtoul(p, &end, 10);
        if (end == p || (*end != ',' && *end != '\0') || count == MAX_MESSAGES) {
            fprintf(stderr, "invalid SIZES: %s\n", argv[4]);
            return 1;
        }
        sizes[count++] = size;
        total += size;
        if (size > longest)
            longest = size;
        if (*end == '\0')
            break;
        p = end + 1;
    }

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
        fprintf(stderr, "invalid address: %s\n", argv[1]);
        return 1;
    }

    char *out = malloc(total + 1);     /* every echo, in order */
    char *data = malloc(longest + 1);  /* the message being sent */
    if (out == NULL || data == NULL) {
        perror("malloc");
        exit(1);
    }

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        perror("socket");
        exit(1);
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("connect");
        exit(1);
    }

    size_t received = 0;
    for (size_t k = 0; k < count; k++) {
        for (size_t i = 0; i < sizes[k]; i++)
            data[i] = message[i % len];
        send_all(fd, data, sizes[k]);
        size_t got = recv_all(fd, out + received, sizes[k]);
        received += got;
        if (got < sizes[k])
            break; /* the server closed the connection early */
    }

    if (close(fd) < 0) {
        perror("close");
        exit(1);
    }

    if (fwrite(out, 1, received, stdout) != received || fflush(stdout) != 0) {
        perror("write");
        exit(1);
    }
    free(data);
    free(out);
    return 0;
}
