/*
 * qr.h — the QR code that puts a two-step sign-in secret into an
 * authenticator app: the otpauth:// URI it holds, and its picture as inline SVG.
 *
 * The SVG is drawn by Shoal from libqrencode's module matrix and nothing else:
 * it contains only numbers and fixed markup, never the text it encodes, so it
 * can go into a page as struct safe_html. Inline SVG (rather than an image
 * URL) keeps the secret out of URLs, logs and caches, and needs no script.
 */
#ifndef SHOAL_AUTH_QR_H
#define SHOAL_AUTH_QR_H

#include "core/buf.h"
#include "render/html.h"

/**
 * Appends the Key URI of a TOTP secret, as authenticator apps read it:
 * otpauth://totp/ISSUER:ACCOUNT?secret=SECRET&issuer=ISSUER&algorithm=SHA1&digits=6&period=30
 * with issuer and account percent-encoded (RFC 3986: all but unreserved characters),
 * so that a collective's name with spaces, ampersands or a colon stays one field.
 * Returns 0, or -1 when out's cap was reached.
 */
int qr_otpauth_uri(struct buf *out, const char *issuer, const char *account, const char *secret)
    __attribute__((warn_unused_result));

/**
 * Encodes text as a QR code (error correction level M) and appends it to out
 * as an <svg> element with a quiet zone, scaled to size pixels, labelled for
 * screen readers with label (fixed text chosen by the caller, attribute-escaped).
 * On success sets *html to point at out's data. Returns 0, or -1 when the
 * text is too long for a QR code or out's cap was reached.
 */
int qr_svg(const char *text, const char *label, int size, struct buf *out, struct safe_html *html)
    __attribute__((warn_unused_result));

#endif
