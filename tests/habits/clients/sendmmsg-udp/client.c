/* HABIT: UDP: the message sent with sendmmsg() (msg_name set), the echo read with recvmmsg() */
#include "../../habit.h"

int main(int argc, char *argv[])
{
    need_args(argc, argv, 4, "HOST PORT MESSAGE");
    const char *message = argv[3];
    size_t len = strlen(message);
    struct sockaddr_storage addr;
    socklen_t addrlen = address(argv[1], argv[2], &addr);
    int fd = socket(addr.ss_family, SOCK_DGRAM, 0);
    if (fd < 0)
        die("socket");
    struct iovec out = {.iov_base = (void *)message, .iov_len = len};
    struct mmsghdr send_vec;
    memset(&send_vec, 0, sizeof send_vec);
    send_vec.msg_hdr.msg_name = &addr;
    send_vec.msg_hdr.msg_namelen = addrlen;
    send_vec.msg_hdr.msg_iov = &out;
    send_vec.msg_hdr.msg_iovlen = 1;
    if (sendmmsg(fd, &send_vec, 1, 0) != 1)
        die("sendmmsg");
    static char buf[65536];
    struct sockaddr_in from;
    struct iovec in = {.iov_base = buf, .iov_len = sizeof buf};
    struct mmsghdr recv_vec;
    memset(&recv_vec, 0, sizeof recv_vec);
    recv_vec.msg_hdr.msg_name = &from;
    recv_vec.msg_hdr.msg_namelen = sizeof from;
    recv_vec.msg_hdr.msg_iov = &in;
    recv_vec.msg_hdr.msg_iovlen = 1;
    if (recvmmsg(fd, &recv_vec, 1, 0, NULL) != 1)
        die("recvmmsg");
    close_or_die(fd);
    print_all(buf, recv_vec.msg_len);
    return 0;
}
