/* A digest as text, the one size every module uses for it: the package
 * store's blobs, a tree's digest, a queued job's raw input. */
#ifndef WHISKERS_DIGEST_H
#define WHISKERS_DIGEST_H

/* "sha256:" + 64 lowercase hex digits + NUL. Only sha256 is supported. */
#define WH_DIGEST_BUF 72

#endif
