/* HABIT: the accepted fd passed over a socketpair (SCM_RIGHTS) to a forked worker that echoes */
#include "../../habit.h"

static void send_fd(int over, int fd)
{
    char byte = 'c';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    if (sendmsg(over, &msg, 0) != 1)
        die("sendmsg SCM_RIGHTS");
}

static int receive_fd(int over)
{
    char byte;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    if (recvmsg(over, &msg, 0) != 1)
        die("recvmsg SCM_RIGHTS");
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (c == NULL || c->cmsg_type != SCM_RIGHTS) {
        fprintf(stderr, "no fd received\n");
        exit(1);
    }
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

int main(int argc, char *argv[])
{
    need_args(argc, argv, 3, "HOST PORT");
    int listener = listen_on(argv[1], argv[2]);
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0)
        die("socketpair");
    pid_t worker = fork();
    if (worker < 0)
        die("fork");
    if (worker == 0) {
        close_or_die(listener);
        close_or_die(pair[0]);
        int conn = receive_fd(pair[1]);
        close_or_die(pair[1]);
        echo(conn);
        close_or_die(conn);
        _exit(0);
    }
    close_or_die(pair[1]);
    int conn = accept_one(listener);
    send_fd(pair[0], conn);
    close_or_die(conn);
    close_or_die(pair[0]);
    int status = reap(worker);
    close_or_die(listener);
    return status;
}
