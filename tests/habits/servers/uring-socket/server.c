/* TCP echo server that makes even its listening socket through io_uring
 * (liburing): IORING_OP_SOCKET makes the listener, which plain bind() and
 * listen() then set up; the accept, the receive, the sends and the close of
 * the connection are io_uring operations (IORING_OP_ACCEPT, IORING_OP_RECV,
 * IORING_OP_SEND, IORING_OP_CLOSE), each submitted alone and waited for. The
 * listener is closed with plain close().
 * Accepts one connection, echoes one receive back, then exits.
 * Usage: server HOST PORT */
#include <liburing.h>
#include "../../habit.h"  /* after <liburing.h>: with its io_uring helpers */

int main(int argc, char *argv[])
{
    need_args(argc, argv, 3, "HOST PORT");
    struct io_uring ring;
    int ret = io_uring_queue_init(8, &ring, 0);
    if (ret < 0) {
        fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-ret));
        exit(1);
    }

    io_uring_prep_socket(uring_sqe(&ring, 5), AF_INET, SOCK_STREAM, 0, 0);
    int listen_fd = uring_run(&ring, "socket");
    bind_and_listen(listen_fd, argv[1], argv[2]);

    struct sockaddr_in client;
    socklen_t client_len = sizeof client;
    io_uring_prep_accept(uring_sqe(&ring, 1), listen_fd, (struct sockaddr *)&client,
                         &client_len, 0);
    int conn_fd = uring_run(&ring, "accept");

    char buf[4096];
    io_uring_prep_recv(uring_sqe(&ring, 2), conn_fd, buf, sizeof buf, 0);
    int n = uring_run(&ring, "recv");

    /* Send back everything that was received. */
    int sent = 0;
    while (sent < n) {
        io_uring_prep_send(uring_sqe(&ring, 3), conn_fd, buf + sent, (size_t)(n - sent), 0);
        sent += uring_run(&ring, "send");
    }

    io_uring_prep_close(uring_sqe(&ring, 4), conn_fd);
    uring_run(&ring, "close");
    close_or_die(listen_fd);
    io_uring_queue_exit(&ring);
    return 0;
}
