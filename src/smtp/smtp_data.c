/* SPDX-License-Identifier: ISC */
/*
 * smtp_data.c - the message body reader (smtp_data.h): dot-unstuffing,
 * the end of DATA, and the line rules, one byte at a time.
 *
 * Process:  smtp session.
 * Trust:    every byte is the client's.  The state machine has no buffer
 *           that grows: the stage is flushed to the sink when full, and
 *           nothing past max reaches the sink.
 *
 * States (DATA; BDAT uses BOL, MID and CR only):
 *
 *	BOL	at the start of a line
 *	DOT	a line started with "." (not yet given out)
 *	DOTCR	"." CR at the start of a line: LF ends the message
 *	MID	inside a line
 *	CR	after a CR: only LF may follow
 *
 * A "." starting a line that goes on is dropped (RFC 5321 4.5.2).  Only
 * CR LF "." CR LF ends DATA: only CR LF starts a line, a bare CR or LF
 * does not (and is flagged), so the
 * smuggling variants (<LF>.<LF>, <CR>.<CR>, <LF>.<CR><LF>,
 * <CR><LF>.<LF>, <CR><LF>.<CR>) end nothing and are refused.
 */
#include "config.h"

#include <string.h>

#include "smtp_data.h"
#include "banned.h"

enum { SD_BOL, SD_DOT, SD_DOTCR, SD_MID, SD_CR };

static void
sd_flush(struct smtp_data *d)
{
	if (d->nstage > 0 && !(d->flags & SMTP_DATA_SINK) &&
	    d->sink(d->arg, d->stage, d->nstage) == -1)
		d->flags |= SMTP_DATA_SINK;
	d->nstage = 0;
}

/* One message byte. */
static void
sd_out(struct smtp_data *d, unsigned char c)
{
	d->seen++;
	if (d->size >= d->max) {
		d->flags |= SMTP_DATA_TOO_BIG;
		return;
	}
	d->stage[d->nstage++] = c;
	d->size++;
	if (d->nstage == sizeof(d->stage))
		sd_flush(d);
}

/* A byte of a line's text (not CR, not LF). */
static void
sd_text(struct smtp_data *d, unsigned char c)
{
	if (c == '\0')
		d->flags |= SMTP_DATA_NUL;
	if (++d->linelen > SMTP_TEXT_LINE_MAX - 2)
		d->flags |= SMTP_DATA_LONG_LINE;
	sd_out(d, c);
	d->state = SD_MID;
}

void
smtp_data_init(struct smtp_data *d, bool dot, uint64_t max,
    int (*sink)(void *, const void *, size_t), void *arg)
{
	memset(d, 0, sizeof(*d));
	d->state = SD_BOL;
	d->dot = dot;
	d->max = max;
	d->sink = sink;
	d->arg = arg;
}

size_t
smtp_data_feed(struct smtp_data *d, const unsigned char *p, size_t n)
{
	size_t		i;
	unsigned char	c;

	for (i = 0; i < n && !d->done; i++) {
		c = p[i];
		switch (d->state) {
		case SD_BOL:
			if (c == '.' && d->dot) {
				d->state = SD_DOT;
				break;
			}
			/* FALLTHROUGH */
		case SD_MID:
			if (c == '\r')
				d->state = SD_CR;
			else if (c == '\n') {
				/* not a line end: what follows is no "." line */
				d->flags |= SMTP_DATA_BARE_LF;
				d->state = SD_MID;
			} else
				sd_text(d, c);
			break;
		case SD_DOT:
			/* the stuffed dot is dropped; the line goes on */
			if (c == '\r')
				d->state = SD_DOTCR;
			else if (c == '\n') {
				d->flags |= SMTP_DATA_BARE_LF;	/* CRLF . LF */
				d->state = SD_MID;
			} else
				sd_text(d, c);
			break;
		case SD_DOTCR:
			if (c == '\n') {
				d->done = true;		/* CRLF . CRLF */
				break;
			}
			/* "." CR and more: a bare CR (<CR><LF>.<CR>) */
			d->flags |= SMTP_DATA_BARE_CR;
			if (c == '\r')
				d->state = SD_CR;
			else
				sd_text(d, c);
			break;
		case SD_CR:
			if (c == '\n') {
				sd_out(d, '\r');
				sd_out(d, '\n');
				d->linelen = 0;
				d->state = SD_BOL;
				break;
			}
			d->flags |= SMTP_DATA_BARE_CR;
			if (c != '\r')
				sd_text(d, c);
			break;
		}
	}
	if (d->done)
		sd_flush(d);
	return i;
}

void
smtp_data_finish(struct smtp_data *d)
{
	if (!d->done && d->state == SD_CR)
		d->flags |= SMTP_DATA_BARE_CR;
	else if (!d->done && d->state != SD_BOL && d->seen > 0)
		d->flags |= SMTP_DATA_UNENDED;
	sd_flush(d);
}
