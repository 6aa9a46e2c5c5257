#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <openssl/crypto.h>

// OpenSSL spells these as macros over SSL_ctrl/SSL_CTX_ctrl; Swift cannot call macros.
static inline long copenssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_min_proto_version(ctx, version);
}
static inline long copenssl_ctx_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}
static inline long copenssl_ctx_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}
static inline long copenssl_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}
static inline unsigned long copenssl_version_number(void) { return OPENSSL_VERSION_NUMBER; }
static inline int copenssl_tls1_2_version(void) { return TLS1_2_VERSION; }
static inline long copenssl_mode_partial_write_moving_buffer(void) {
    return SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS;
}
static inline long copenssl_sess_cache_off(void) { return SSL_SESS_CACHE_OFF; }
static inline unsigned long copenssl_op_no_renegotiation(void) { return SSL_OP_NO_RENEGOTIATION; }
// TLS layer (TLSContext, TLSSession, TLSError).
static inline unsigned long copenssl_op_ignore_unexpected_eof(void) { return SSL_OP_IGNORE_UNEXPECTED_EOF; }
static inline int copenssl_err_get_lib(unsigned long code) { return ERR_GET_LIB(code); }
static inline int copenssl_err_get_reason(unsigned long code) { return ERR_GET_REASON(code); }
static inline long copenssl_set_max_proto_version(SSL *ssl, int version) {
    return SSL_set_max_proto_version(ssl, version);
}
static inline long copenssl_ctx_get_min_proto_version(SSL_CTX *ctx) { return SSL_CTX_get_min_proto_version(ctx); }
#endif
