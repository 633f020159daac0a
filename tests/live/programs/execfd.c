/* Sockets across exec. The first run makes sockets, some close-on-exec, then execs itself:
     3  socket SOCK_CLOEXEC                      gone after exec
     4  socketpair, no CLOEXEC                    kept
     5  socketpair, no CLOEXEC                    kept
     6  socket, then fcntl F_SETFD FD_CLOEXEC     gone after exec
     7  socket SOCK_CLOEXEC, then F_SETFD 0       kept
     8  dup2(3, 8): a copy without CLOEXEC        kept
   The second run opens a file twice: the fds it gets (3 and 6) are files, and calls on them
   are not socket calls. Calls on 4, 5, 7, 8 are.
   usage: execfd FILE */
#include "check.h"
#include <fcntl.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
    char buf[16];
    if (argc == 2) {
        int sv[2];
        CHECK(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) == 3);
        CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 && sv[0] == 4 && sv[1] == 5);
        CHECK(socket(AF_INET, SOCK_DGRAM, 0) == 6);
        CHECK(fcntl(6, F_SETFD, FD_CLOEXEC) == 0);
        CHECK(socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0) == 7);
        CHECK(fcntl(7, F_SETFD, 0) == 0);
        CHECK(dup2(3, 8) == 8);
        char *args[] = {argv[0], argv[1], "exec'd", NULL};
        execv("/proc/self/exe", args);
        CHECK(0);
    }
    CHECK(argc == 3);
    int f = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(f == 3);
    int g = open(argv[1], O_RDONLY);
    CHECK(g == 6);
    CHECK(write(f, "file", 4) == 4);
    CHECK(read(g, buf, sizeof buf) == 4);
    CHECK(fcntl(f, F_GETFD) == 0 && fcntl(g, F_GETFD) == 0);
    CHECK(write(4, "inherited", 9) == 9);
    CHECK(read(5, buf, sizeof buf) == 9);
    CHECK(fcntl(7, F_GETFD) == 0);
    CHECK(fcntl(8, F_GETFD) == 0);
    CHECK(close(f) == 0 && close(g) == 0);
    CHECK(close(4) == 0 && close(5) == 0 && close(7) == 0 && close(8) == 0);
    return 0;
}
