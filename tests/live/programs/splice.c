/* splice between sockets and a pipe, as Go's io.Copy from one connection to another does:
   out of a socket into a pipe, out of the pipe into a socket; and a splice from the pipe into
   a regular file, which touches no socket and is not recorded. sendfile from a file into a
   socket is recorded, with the file as its in_fd.
   usage: splice FILE */
#include "check.h"
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
    CHECK(argc == 2);
    int sv[2], pp[2];
    char buf[16];

    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 && sv[0] == 3 && sv[1] == 4);
    CHECK(pipe(pp) == 0 && pp[0] == 5 && pp[1] == 6);
    int f = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(f == 7);

    CHECK(write(sv[1], "ping", 4) == 4);
    CHECK(splice(sv[0], NULL, pp[1], NULL, 4, SPLICE_F_MOVE) == 4);  /* socket -> pipe */
    CHECK(splice(pp[0], NULL, sv[0], NULL, 4, SPLICE_F_MOVE | SPLICE_F_MORE) == 4);  /* -> socket */
    CHECK(read(sv[1], buf, sizeof buf) == 4);

    CHECK(write(pp[1], "file", 4) == 4);
    CHECK(splice(pp[0], NULL, f, NULL, 4, 0) == 4);  /* pipe -> file: no socket */

    CHECK(sendfile(sv[1], f, &(off_t){0}, 4) == 4);  /* file -> socket */
    CHECK(read(sv[0], buf, sizeof buf) == 4);
    CHECK(close(sv[1]) == 0);
    CHECK(splice(sv[0], NULL, pp[1], NULL, 4, 0) == 0);  /* end of file from the socket */
    return 0;
}
