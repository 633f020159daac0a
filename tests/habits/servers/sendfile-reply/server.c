/* HABIT: the reply goes out with sendfile() from a memfd holding the received bytes */
#include "../../habit.h"
#include <sys/mman.h>
#include <sys/sendfile.h>

int main(int argc, char *argv[])
{
    need_args(argc, argv, 3, "HOST PORT");
    int listener = listen_on(argv[1], argv[2]);
    int conn = accept_one(listener);
    char buf[4096];
    ssize_t n = recv(conn, buf, sizeof buf, 0);
    if (n < 0)
        die("recv");
    int mem = memfd_create("echo", MFD_CLOEXEC);
    if (mem < 0)
        die("memfd_create");
    if (write(mem, buf, (size_t)n) != n)
        die("write memfd");
    off_t off = 0;
    while (off < n) {
        ssize_t w = sendfile(conn, mem, &off, (size_t)(n - off));
        if (w < 0)
            die("sendfile");
    }
    close_or_die(mem);
    close_or_die(conn);
    close_or_die(listener);
    return 0;
}
