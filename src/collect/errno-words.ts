/**
 * Node's error codes (`ENOENT`, `ECONNREFUSED`, `CERT_HAS_EXPIRED`...) in words, so a message says
 * "Cannot read dump "w3.txt": no such file" instead of a code the user has to look up.
 */

const WORDS: Readonly<Record<string, string>> = {
  // files
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EISDIR: "it is a directory",
  ENOTDIR: "a part of the path is not a directory",
  EEXIST: "it already exists",
  ENOTEMPTY: "the directory is not empty",
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is exceeded",
  EROFS: "the file system is read-only",
  EMFILE: "too many open files",
  ENAMETOOLONG: "the name is too long",
  ELOOP: "too many symbolic links",
  EXDEV: "it is on another file system",
  EIO: "input/output error",
  EBUSY: "the resource is busy",
  // network
  ECONNREFUSED: "connection refused",
  ECONNRESET: "the connection was reset",
  ECONNABORTED: "the connection was aborted",
  EPIPE: "the connection was closed",
  ETIMEDOUT: "the connection timed out",
  ENOTFOUND: "the host name does not resolve",
  EAI_AGAIN: "the host name could not be resolved (DNS is not answering)",
  EHOSTUNREACH: "no route to the host",
  ENETUNREACH: "the network is unreachable",
  EADDRINUSE: "the address is already in use",
  EADDRNOTAVAIL: "the address is not available on this machine",
  // TLS
  CERT_HAS_EXPIRED: "the server's certificate has expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's certificate is self-signed and not trusted",
  SELF_SIGNED_CERT_IN_CHAIN: "the server's certificate chain is not trusted (self-signed CA)",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's certificate cannot be verified",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the server's certificate issuer is not trusted",
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's certificate does not name this host",
  ERR_SSL_WRONG_VERSION_NUMBER: "the server does not speak TLS on this port",
  EPROTO: "the server does not speak TLS on this port",
};

/** The code's meaning in words, or the code itself when it is not a known one. */
export function errnoWords(code: string): string {
  return WORDS[code] ?? code;
}

/**
 * What went wrong in words: the code of a Node error when it has one (in words), else its message.
 *
 * @example
 * ```ts
 * errorWords(Object.assign(new Error("x"), { code: "EACCES" })); // "permission denied"
 * ```
 */
export function errorWords(error: unknown): string {
  if (error !== null && typeof error === "object") {
    const e = error as { code?: unknown; message?: unknown };
    if (typeof e.code === "string" && e.code !== "") return errnoWords(e.code);
    if (typeof e.message === "string" && e.message !== "") return e.message;
  }
  return String(error);
}

/** Whether `error` is a Node error with code `code`. */
export function hasCode(error: unknown, code: string): boolean {
  return error !== null && typeof error === "object" && (error as { code?: unknown }).code === code;
}

/** Whether `error` is a Node system error (it has a string `code` such as `EACCES`). */
export function isSystemError(error: unknown): boolean {
  return (
    error !== null && typeof error === "object" && typeof (error as { code?: unknown }).code === "string"
  );
}
