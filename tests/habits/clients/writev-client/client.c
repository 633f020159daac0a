/* HABIT: the message sent with one writev() of two iovecs */
#include "../../habit.h"
#include <sys/uio.h>

int main(int argc, char *argv[])
{
    need_args(argc, argv, 4, "HOST PORT MESSAGE");
    const char *message = argv[3];
    size_t len = strlen(message), half = len / 2;
    int fd = connect_to(argv[1], argv[2]);
    struct iovec iov[2] = {{(void *)message, half}, {(void *)(message + half), len - half}};
    ssize_t w = writev(fd, iov, 2);
    if (w < 0)
        die("writev");
    send_all(fd, message + w, len - (size_t)w);  /* a short writev: the rest sent plainly */
    receive_and_print(fd, len);
    return 0;
}
