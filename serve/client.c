/* The client side of the socket protocol: one request, one reply line. */
#include "serve/internal.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdlib.h>
#include <unistd.h>

char *vms_serve_default_socket(void)
{
	const char *r = getenv("XDG_RUNTIME_DIR");
	if (r && *r == '/')
		return vms_xasprintf("%s/vmslim.sock", r);
	return vms_xasprintf("/tmp/vmslim-%u.sock", (unsigned)getuid());
}

static int wait_fd(int fd, short ev, double deadline)
{
	for (;;) {
		int t = -1;
		if (deadline > 0) {
			double left = deadline - vms_now_ms();
			if (left <= 0)
				return -ETIMEDOUT;
			t = (int)left + 1;
		}
		struct pollfd p = { .fd = fd, .events = ev };
		int n = poll(&p, 1, t);
		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

int vms_client_call(const char *socket_path, const char *request, char **reply,
		    int timeout_ms)
{
	*reply = NULL;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, socket_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	double deadline = timeout_ms > 0 ? vms_now_ms() + timeout_ms : 0;
	size_t len = strlen(request);
	struct vms_buf out = { 0 };
	vms_buf_append(&out, request, len);
	vms_buf_append(&out, "\n", 1);
	int err = 0;
	for (size_t off = 0; off < out.len && !err;) {
		/* non-blocking under a deadline: a daemon that stops reading must not hold us
		 * past the timeout */
		ssize_t w = send(fd, out.data + off, out.len - off,
				 MSG_NOSIGNAL | (deadline > 0 ? MSG_DONTWAIT : 0));
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				err = wait_fd(fd, POLLOUT, deadline);
				continue;
			}
			/* the daemon may have answered (too large) and closed: read that */
			break;
		}
		off += (size_t)w;
		if (off < out.len)
			err = wait_fd(fd, POLLOUT, deadline);
	}
	vms_buf_free(&out);
	struct vms_buf in = { 0 };
	char buf[65536];
	while (!err) {
		char *nl = in.len ? memchr(in.data, '\n', in.len) : NULL;
		if (nl) {
			*reply = vms_xstrndup(in.data, (size_t)(nl - in.data));
			break;
		}
		err = wait_fd(fd, POLLIN, deadline);
		if (err)
			break;
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n == 0 ? -ECONNRESET : -errno;
			break;
		}
		vms_buf_append(&in, buf, (size_t)n);
	}
	vms_buf_free(&in);
	close(fd);
	return err;
}
