/* Every kind of descriptor call a runtime might make on a socket fd: the tracer must record
   each one (strace -e trace=%desc shows them all). Most fail on a socket; that is the point:
   a runtime probing its fds makes them anyway. The socket is moved to fd 40, a file sits
   at fd 41 and must not be recorded. */
#include "check.h"
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/file.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <linux/stat.h>

int main(int argc, char **argv) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(s >= 0);
    CHECK(dup2(s, 40) == 40);
    CHECK(close(s) == 0);
    int f = open(argc > 1 ? argv[1] : "/etc/hostname", O_RDONLY);
    CHECK(f >= 0);
    CHECK(dup2(f, 41) == 41);
    CHECK(close(f) == 0);
    struct stat st;
    struct statfs sfs;
    char buf[64];
    struct iovec iov = {buf, sizeof buf};
    for (int fd = 40; fd <= 41; fd++) {
        syscall(SYS_lseek, fd, 0L, SEEK_CUR);
        syscall(SYS_fstat, fd, &st);
        syscall(SYS_newfstatat, fd, "", &st, AT_EMPTY_PATH);
        struct statx sx;
        syscall(SYS_statx, fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx);
        syscall(SYS_fstatfs, fd, &sfs);
        syscall(SYS_flock, fd, LOCK_SH | LOCK_NB);
        syscall(SYS_fsync, fd);
        syscall(SYS_fdatasync, fd);
        syscall(SYS_ftruncate, fd, 0L);
        syscall(SYS_fchmod, fd, 0600);
        syscall(SYS_fchown, fd, -1, -1);
        syscall(SYS_fadvise64, fd, 0L, 0L, 0);
        syscall(SYS_readahead, fd, 0L, 0L);
        syscall(SYS_fallocate, fd, 0, 0L, 1L);
        syscall(SYS_fgetxattr, fd, "user.x", buf, sizeof buf);
        syscall(SYS_flistxattr, fd, buf, sizeof buf);
        syscall(SYS_getdents64, fd, buf, sizeof buf);
        syscall(SYS_sync_file_range, fd, 0L, 0L, 0);
        syscall(SYS_syncfs, fd);
        void *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m != MAP_FAILED) munmap(m, 4096);
        syscall(SYS_preadv, fd, &iov, 1, 0L, 0L);
        syscall(SYS_pwritev, fd, &iov, 0, 0L, 0L);
        syscall(SYS_openat, fd, "x", O_RDONLY);
        syscall(SYS_faccessat, fd, "x", F_OK);
        syscall(SYS_readlinkat, fd, "x", buf, sizeof buf);
        syscall(SYS_fchdir, fd);
    }
    syscall(SYS_newfstatat, AT_FDCWD, ".", &st, 0);
    CHECK(close(40) == 0);
    return 0;
}
