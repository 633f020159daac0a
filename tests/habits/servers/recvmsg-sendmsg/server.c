/* HABIT: the echo with recvmsg() and sendmsg() */
#include "../../habit.h"

int main(int argc, char *argv[])
{
    need_args(argc, argv, 3, "HOST PORT");
    int listener = listen_on(argv[1], argv[2]);
    int conn = accept_one(listener);
    char buf[4096];
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n = recvmsg(conn, &msg, 0);
    if (n < 0)
        die("recvmsg");
    ssize_t sent = 0;
    while (sent < n) {
        struct iovec out = {.iov_base = buf + sent, .iov_len = (size_t)(n - sent)};
        struct msghdr reply = {.msg_iov = &out, .msg_iovlen = 1};
        ssize_t w = sendmsg(conn, &reply, 0);
        if (w < 0)
            die("sendmsg");
        sent += w;
    }
    close_or_die(conn);
    close_or_die(listener);
    return 0;
}
