/*
 * qr.c — otpauth:// URIs and QR codes as inline SVG (see qr.h).
 *
 * Each row of dark modules becomes one path segment per run ("M x y h n v 1
 * h -n z"), so a code of a few thousand modules is a few kilobytes of markup
 * and renders crisply at any zoom (WCAG 1.4.4).
 */
#include "auth/qr.h"

#include <qrencode.h>
#include <stdlib.h>
#include <string.h>

#define QR_QUIET_ZONE 4 /* modules of margin the QR specification asks for */

/* RFC 3986 unreserved characters pass; every other byte becomes %XX. */
static void percent_encode(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
			buf_putc(out, (char)*p);
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			buf_add(out, e, sizeof e);
		}
	}
}

int qr_otpauth_uri(struct buf *out, const char *issuer, const char *account, const char *secret)
{
	buf_puts(out, "otpauth://totp/");
	percent_encode(out, issuer);
	buf_putc(out, ':');
	percent_encode(out, account);
	buf_puts(out, "?secret=");
	percent_encode(out, secret);
	buf_puts(out, "&issuer=");
	percent_encode(out, issuer);
	buf_puts(out, "&algorithm=SHA1&digits=6&period=30");
	return out->overflow ? -1 : 0;
}

int qr_svg(const char *text, const char *label, int size, struct buf *out, struct safe_html *html)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!qr)
		return -1; /* EINVAL, ERANGE (too long) or ENOMEM */
	int width = qr->width, total = width + 2 * QR_QUIET_ZONE;
	buf_printf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"shoal-qr\" role=\"img\" "
	                "aria-label=\"");
	html_attr(out, label);
	buf_printf(out,
	           "\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	           "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" "
	           "fill=\"#ffffff\"/><path fill=\"#000000\" d=\"",
	           size, size, total, total, total, total);
	for (int y = 0; y < width; y++) {
		for (int x = 0; x < width;) {
			if (!(qr->data[y * width + x] & 1)) {
				x++;
				continue;
			}
			int run = 0;
			while (x + run < width && (qr->data[y * width + x + run] & 1))
				run++;
			buf_printf(out, "M%d %dh%dv1h-%dz", x + QR_QUIET_ZONE, y + QR_QUIET_ZONE,
			           run, run);
			x += run;
		}
	}
	buf_puts(out, "\"/></svg>");
	QRcode_free(qr);
	if (out->overflow)
		return -1;
	html->html = out->data;
	return 0;
}
