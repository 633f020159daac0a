/* HABIT: SIGALRM every millisecond with SA_RESTART while blocked in accept() (restarted by the kernel) */
#include "../../habit.h"
#include <sys/time.h>

static volatile sig_atomic_t ticks;

static void tick(int sig)
{
    (void)sig;
    ticks++;
}

int main(int argc, char *argv[])
{
    need_args(argc, argv, 3, "HOST PORT");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = tick;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) < 0)
        die("sigaction");
    int listener = listen_on(argv[1], argv[2]);
    struct itimerval every_ms = {{0, 1000}, {0, 1000}}, off = {{0, 0}, {0, 0}};
    if (setitimer(ITIMER_REAL, &every_ms, NULL) < 0)
        die("setitimer");
    int conn = accept_one(listener);
    if (setitimer(ITIMER_REAL, &off, NULL) < 0)
        die("setitimer off");
    echo(conn);
    close_or_die(conn);
    close_or_die(listener);
    fprintf(stderr, "%d SIGALRM while in accept()\n", (int)ticks);
    return 0;
}
