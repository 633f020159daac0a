/* HABIT: both sockets released by one close_range(3, ~0U, 0) at the end */
#include "../../habit.h"
#include <linux/close_range.h>
#include <sys/syscall.h>

int main(int argc, char *argv[])
{
    need_args(argc, argv, 3, "HOST PORT");
    int listener = listen_on(argv[1], argv[2]);
    int conn = accept_one(listener);
    echo(conn);
    if (syscall(SYS_close_range, 3U, ~0U, 0) < 0)
        die("close_range");
    return 0;
}
