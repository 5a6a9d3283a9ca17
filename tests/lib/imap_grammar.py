"""imap_grammar - a strict parser of IMAP4rev1 server responses to FETCH.

Written from RFC 3501 section 9 (formal syntax) and 7.4.2 (FETCH data),
with RFC 3516 (BINARY, BINARY.SIZE, literal8), independently of the
server's code, to judge what the server sends: Python's standard library
only.

    parse_fetch(data, tag)   the raw bytes of everything one FETCH command
                             got back (untagged lines with their literals,
                             then the tagged line): (fetches, others, tagged)
    parse_response(data)     the same, as one list of responses

Either returns a parsed structure (namedtuples, lists, bytes, ints, None
for NIL) or raises ValueError("offset N: expected WHAT, found ...").

What "strict" means here:
  - SP is exactly one space (RFC 3501 9, note 2); nothing between tokens
    that the grammar does not name; every response ends in CRLF and nothing
    follows the tagged line;
  - a quoted string holds TEXT-CHARs only (%x01-7F but CR and LF), with
    "\\" used only before '"' and "\\"; a literal is "{n}" CRLF and exactly n
    octets, none of them NUL (CHAR8); a literal8 ("~{n}", RFC 3516) only
    after BINARY[...]; no octet over %x7F anywhere outside a literal;
  - numbers are 1*DIGIT below 2^32, nz-number where the grammar says so;
  - parentheses balance, because every list is parsed by its own rule;
  - BODY never carries extension data (RFC 3501 7.4.2: "MUST NOT be
    returned on non-extensible BODY fetch"), and no body-extension past
    body-fld-loc (servers "MUST NOT generate" them); with full_ext=True,
    BODYSTRUCTURE must carry md5, dsp, lang and loc for every single part
    and params, dsp, lang and loc for every multipart;
  - a part is body-type-text exactly when its type is the quoted string
    "TEXT", and body-type-msg exactly when it is "MESSAGE" "RFC822" (7.4.2;
    the ABNF alone is ambiguous, since media-basic also matches those);
    "MESSAGE" "GLOBAL" is body-type-basic in IMAP4rev1 (RFC 9051 made it a
    message, allow "rev2-message-global" to accept that);
  - address lists: group marks (host NIL) must pair up, a start
    (mailbox = group name) before its end (mailbox NIL), and a mark
    carries no name or route (RFC 3501 7.4.2, RFC 5322 3.4);
  - INTERNALDATE is a real date-time (day 1-31, hour < 24, ...);
  - BINARY[...] may carry an origin, "BINARY[1]<3>": RFC 3516 4.3's text
    has it although its ABNF (msg-att-static) leaves it out.

allow: names of known server deviations to accept while the server has
them, so that a test can keep checking everything else:
  "binary-size-nil"       NIL instead of a number after BINARY.SIZE[...]
  "rev2-message-global"   MESSAGE/GLOBAL rendered as body-type-msg
  "literal-nul"           NUL octets inside a literal (not a literal8)
"""

import collections

Address = collections.namedtuple("Address", "name adl mailbox host")
Envelope = collections.namedtuple(
    "Envelope", "date subject from_ sender reply_to to cc bcc in_reply_to message_id")
# a single part; envelope/body/lines for MESSAGE/RFC822 (lines for TEXT);
# ext: None, or a tuple of the extension fields present (md5, dsp, lang, loc)
Part = collections.namedtuple(
    "Part", "type subtype params id description encoding octets lines envelope body ext")
# ext: None, or a tuple of those present (params, dsp, lang, loc)
Multipart = collections.namedtuple("Multipart", "parts subtype ext")
Fetch = collections.namedtuple("Fetch", "number items")      # items: [(name, value)]
Untagged = collections.namedtuple("Untagged", "kind number data")
Tagged = collections.namedtuple("Tagged", "tag status code text")

MAX_NESTING = 200       # body/address nesting we follow before giving up
ALLOWANCES = {"binary-size-nil", "rev2-message-global", "literal-nul"}

_MONTHS = (b"JAN", b"FEB", b"MAR", b"APR", b"MAY", b"JUN",
           b"JUL", b"AUG", b"SEP", b"OCT", b"NOV", b"DEC")
_DIGITS = b"0123456789"


def _text_char(c):
    """RFC 3501 9: TEXT-CHAR = <any CHAR except CR and LF>, CHAR = %x01-7F."""
    return 0x01 <= c <= 0x7F and c not in (0x0A, 0x0D)


def _atom_char(c):
    """ATOM-CHAR: any CHAR except atom-specials ( ) { SP CTL % * " \\ ]."""
    return 0x21 <= c <= 0x7E and c not in b'(){%*"\\]'


def _astring_char(c):
    """ASTRING-CHAR = ATOM-CHAR / resp-specials ("]")."""
    return _atom_char(c) or c == 0x5D


class Parser:
    def __init__(self, data, allow=(), full_ext=False):
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError("bytes expected")
        unknown = set(allow) - ALLOWANCES
        if unknown:
            raise ValueError("unknown allowances: %s" % sorted(unknown))
        self.d = bytes(data)
        self.i = 0
        self.allow = set(allow)
        self.full_ext = full_ext

    # -- errors and low-level matching ---------------------------------------
    def fail(self, what, at=None):
        at = self.i if at is None else at
        found = self.d[at:at + 24]
        raise ValueError("offset %d: expected %s, found %s"
                         % (at, what, repr(found) if found else "the end"))

    def peek(self):
        return self.d[self.i] if self.i < len(self.d) else None

    def at(self, lit):
        """Does lit (ASCII, case-insensitive, RFC 3501 9 note 1) come next?"""
        chunk = self.d[self.i:self.i + len(lit)]
        return len(chunk) == len(lit) and chunk.upper() == lit.upper()

    def accept(self, lit):
        if self.at(lit):
            self.i += len(lit)
            return True
        return False

    def expect(self, lit, what=None):
        if not self.accept(lit):
            self.fail(what or repr(lit.decode()))

    def sp(self, what="SP"):
        self.expect(b" ", what)

    def crlf(self):
        self.expect(b"\r\n", "CRLF")

    # -- numbers, atoms, strings ---------------------------------------------
    def number(self, nz=False, what=None):
        """number = 1*DIGIT (< 2^32); nz-number = digit-nz *DIGIT."""
        start = self.i
        while self.i < len(self.d) and self.d[self.i] in _DIGITS:
            self.i += 1
        digits = self.d[start:self.i]
        if not digits:
            self.fail(what or ("nz-number" if nz else "number"), start)
        if nz and digits[:1] == b"0":
            self.fail(what or "nz-number (no leading 0)", start)
        v = int(digits)
        if v > 0xFFFFFFFF:
            self.fail("a number below 2^32", start)
        return v

    def atom(self, what="atom"):
        start = self.i
        while self.i < len(self.d) and _atom_char(self.d[self.i]):
            self.i += 1
        if self.i == start:
            self.fail(what)
        return self.d[start:self.i]

    def quoted(self):
        """quoted = DQUOTE *QUOTED-CHAR DQUOTE."""
        start = self.i
        self.expect(b'"', "DQUOTE")
        out = bytearray()
        while True:
            c = self.peek()
            if c is None:
                self.fail("the closing DQUOTE of the string at %d" % start)
            if c == 0x22:
                self.i += 1
                return bytes(out)
            if c == 0x5C:
                n = self.d[self.i + 1] if self.i + 1 < len(self.d) else None
                if n not in (0x22, 0x5C):
                    self.fail('\\" or \\\\ (quoted-specials after a backslash)')
                out.append(n)
                self.i += 2
                continue
            if not _text_char(c):
                self.fail("a TEXT-CHAR in a quoted string (no CR, LF, NUL or 8-bit)")
            out.append(c)
            self.i += 1

    def literal(self, eight=False):
        """literal = "{" number "}" CRLF *CHAR8 (CHAR8 = %x01-FF);
        literal8 = "~{" number "}" CRLF *OCTET (RFC 3516)."""
        if eight:
            self.expect(b"~{", '"~{"')
        else:
            self.expect(b"{", '"{"')
        n = self.number(what="the literal's length")
        self.expect(b"}", '"}" (a server sends no "+" in a literal)')
        self.crlf()
        if len(self.d) - self.i < n:
            self.fail("%d octets of literal (only %d left)" % (n, len(self.d) - self.i))
        v = self.d[self.i:self.i + n]
        if not eight and 0 in v and "literal-nul" not in self.allow:
            self.fail("CHAR8 (no NUL in a literal; literal8 is for BINARY only)",
                      self.i + v.index(0))
        self.i += n
        return v

    def string(self, what="string"):
        c = self.peek()
        if c == 0x22:
            return self.quoted()
        if c == 0x7B:
            return self.literal()
        self.fail(what + " (quoted or literal)")

    def nstring(self, what="nstring"):
        if self.accept(b"NIL"):
            return None
        c = self.peek()
        if c not in (0x22, 0x7B):
            self.fail(what + " (quoted, literal or NIL)")
        return self.string()

    def astring(self):
        """astring = 1*ASTRING-CHAR / string."""
        c = self.peek()
        if c in (0x22, 0x7B):
            return self.string()
        start = self.i
        while self.i < len(self.d) and _astring_char(self.d[self.i]):
            self.i += 1
        if self.i == start:
            self.fail("astring")
        return self.d[start:self.i]

    # -- FETCH data items ----------------------------------------------------
    def flag_list(self):
        """"(" [flag-fetch *(SP flag-fetch)] ")"; a flag is an atom,
        perhaps after one backslash (flag-extension, system flags)."""
        self.expect(b"(", '"(" of a flag list')
        flags = []
        if self.accept(b")"):
            return flags
        while True:
            start = self.i
            self.accept(b"\\")
            self.atom("a flag (atom or \\atom)")
            flags.append(self.d[start:self.i].decode("ascii"))
            if self.accept(b")"):
                return flags
            self.sp('SP or ")" in a flag list')

    def date_time(self):
        """DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP
        zone DQUOTE, and a real date."""
        start = self.i
        self.expect(b'"', "DQUOTE of a date-time")
        if self.accept(b" "):
            day = self.digits(1)
        else:
            day = self.digits(2)
        self.expect(b"-", '"-"')
        mon = self.d[self.i:self.i + 3]
        if mon.upper() not in _MONTHS:
            self.fail("a date-month (Jan..Dec)")
        self.i += 3
        self.expect(b"-", '"-"')
        self.digits(4)
        self.sp()
        hh = self.digits(2)
        self.expect(b":", '":"')
        mm = self.digits(2)
        self.expect(b":", '":"')
        ss = self.digits(2)
        self.sp()
        if self.peek() not in (0x2B, 0x2D):
            self.fail('a zone ("+" or "-" and 4DIGIT)')
        self.i += 1
        zone = self.d[self.i:self.i + 4]
        self.digits(4)
        self.expect(b'"', "DQUOTE ending a date-time")
        if not (1 <= day <= 31 and hh < 24 and mm < 60 and ss < 61
                and int(zone[2:]) < 60):
            self.fail("a date-time that exists", start)
        return self.d[start + 1:self.i - 1].decode("ascii")

    def digits(self, n):
        v = self.d[self.i:self.i + n]
        if len(v) != n or any(c not in _DIGITS for c in v):
            self.fail("%d DIGIT" % n)
        self.i += n
        return int(v)

    def address(self):
        """"(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"."""
        self.expect(b"(", '"(" of an address')
        name = self.nstring("addr-name")
        self.sp()
        adl = self.nstring("addr-adl")
        self.sp()
        mailbox = self.nstring("addr-mailbox")
        self.sp()
        host = self.nstring("addr-host")
        self.expect(b")", '")" ending an address')
        return Address(name, adl, mailbox, host)

    def address_list(self, what):
        """"(" 1*address ")" / nil: addresses follow each other, no SP."""
        if self.accept(b"NIL"):
            return None
        start = self.i
        self.expect(b"(", what + ' ("(" 1*address ")" or NIL)')
        out = [self.address()]
        while not self.accept(b")"):
            if self.peek() != 0x28:
                self.fail('another address or ")" (no SP between addresses)')
            out.append(self.address())
        self.check_groups(out, start)
        return out

    def check_groups(self, addrs, start):
        """RFC 3501 7.4.2: host NIL marks a group; mailbox non-NIL starts
        it (the group's name), NIL ends it.  Marks pair up."""
        depth = 0
        for a in addrs:
            if a.host is not None:
                continue
            if a.name is not None or a.adl is not None:
                self.fail("a group mark without addr-name and addr-adl "
                          "(a mailbox needs a non-NIL host)", start)
            if a.mailbox is not None:
                depth += 1
            elif depth == 0:
                self.fail("an end-of-group mark only after a group start", start)
            else:
                depth -= 1
        if depth:
            self.fail("an end-of-group mark for every group start", start)

    def envelope(self):
        """"(" env-date SP env-subject SP env-from SP env-sender SP
        env-reply-to SP env-to SP env-cc SP env-bcc SP env-in-reply-to SP
        env-message-id ")"."""
        self.expect(b"(", '"(" of an envelope')
        date = self.nstring("env-date")
        self.sp()
        subject = self.nstring("env-subject")
        lists = []
        for what in ("env-from", "env-sender", "env-reply-to", "env-to", "env-cc", "env-bcc"):
            self.sp()
            lists.append(self.address_list(what))
        self.sp()
        irt = self.nstring("env-in-reply-to")
        self.sp()
        mid = self.nstring("env-message-id")
        self.expect(b")", '")" ending an envelope')
        return Envelope(date, subject, *lists, irt, mid)

    def body_fld_param(self):
        """"(" string SP string *(SP string SP string) ")" / nil."""
        if self.accept(b"NIL"):
            return None
        self.expect(b"(", 'body-fld-param ("(" or NIL)')
        out = []
        while True:
            k = self.string("a parameter name")
            self.sp()
            v = self.string("a parameter value")
            out.append((k, v))
            if self.accept(b")"):
                return out
            self.sp('SP or ")" in body-fld-param')

    def body_fld_dsp(self):
        """"(" string SP body-fld-param ")" / nil."""
        if self.accept(b"NIL"):
            return None
        self.expect(b"(", 'body-fld-dsp ("(" or NIL)')
        kind = self.string("a disposition type")
        self.sp()
        params = self.body_fld_param()
        self.expect(b")", '")" ending body-fld-dsp')
        return (kind, params)

    def body_fld_lang(self):
        """nstring / "(" string *(SP string) ")"."""
        if self.accept(b"("):
            out = [self.string("a language tag")]
            while not self.accept(b")"):
                self.sp('SP or ")" in body-fld-lang')
                out.append(self.string("a language tag"))
            return out
        return self.nstring("body-fld-lang")

    def body_ext(self, first, kind):
        """[SP first [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc]]]]
        where first is body-fld-md5 or body-fld-param; past loc,
        body-extension would follow: servers MUST NOT send any."""
        readers = (first, self.body_fld_dsp, self.body_fld_lang,
                   lambda: self.nstring("body-fld-loc"))
        got = []
        for r in readers:
            if not self.accept(b" "):
                break
            got.append(r())
        if len(got) == 4 and self.peek() == 0x20:
            self.fail('")": no body-extension after body-fld-loc (RFC 3501 9: '
                      'servers MUST NOT generate them)')
        if self.full_ext and len(got) < 4:
            self.fail("SP and the %s extension fields of %s (all four)"
                      % (("md5", "dsp", "lang", "loc")[len(got)] if kind == "1part"
                         else ("params", "dsp", "lang", "loc")[len(got)], kind))
        return tuple(got)

    def body(self, extended, depth=0):
        """body = "(" (body-type-1part / body-type-mpart) ")"."""
        if depth > MAX_NESTING:
            self.fail("body nesting within %d levels" % MAX_NESTING)
        self.expect(b"(", '"(" of a body')
        if self.peek() == 0x28:
            # body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
            parts = []
            while self.peek() == 0x28:
                parts.append(self.body(extended, depth + 1))
            self.sp('SP and the multipart subtype (no SP between parts)')
            subtype = self.string("media-subtype")
            ext = None
            if extended:
                ext = self.body_ext(self.body_fld_param, "multipart")
            self.expect(b")", '")" ending a multipart body' +
                        ("" if extended else " (BODY has no extension data)"))
            return Multipart(parts, subtype, ext)
        type_quoted = self.peek() == 0x22
        mtype = self.string("media type")
        self.sp()
        sub_quoted = self.peek() == 0x22
        subtype = self.string("media-subtype")
        is_text = type_quoted and mtype.upper() == b"TEXT"
        msg_subs = (b"RFC822", b"GLOBAL") if "rev2-message-global" in self.allow else (b"RFC822",)
        is_msg = type_quoted and sub_quoted and mtype.upper() == b"MESSAGE" \
            and subtype.upper() in msg_subs
        # body-fields = body-fld-param SP body-fld-id SP body-fld-desc SP
        #               body-fld-enc SP body-fld-octets
        self.sp()
        params = self.body_fld_param()
        self.sp()
        bid = self.nstring("body-fld-id")
        self.sp()
        desc = self.nstring("body-fld-desc")
        self.sp()
        enc = self.string("body-fld-enc")
        self.sp()
        octets = self.number(what="body-fld-octets")
        lines = env = inner = None
        if is_msg:
            # body-type-msg: ... SP envelope SP body SP body-fld-lines
            self.sp("SP and the envelope of a MESSAGE/RFC822 part")
            env = self.envelope()
            self.sp()
            inner = self.body(extended, depth + 1)
            self.sp()
            lines = self.number(what="body-fld-lines")
        elif is_text:
            self.sp("SP and body-fld-lines of a TEXT part")
            lines = self.number(what="body-fld-lines")
        ext = None
        if extended:
            ext = self.body_ext(lambda: self.nstring("body-fld-md5"), "1part")
        self.expect(b")", '")" ending a body part' +
                    ("" if extended else " (BODY has no extension data)"))
        return Part(mtype, subtype, params, bid, desc, enc, octets, lines, env, inner, ext)

    def section(self, binary):
        """section = "[" [section-spec] "]"; section-binary = "[" [section-part] "]"."""
        start = self.i
        self.expect(b"[", '"["')
        c = self.peek()
        if c is not None and 0x31 <= c <= 0x39:
            # section-part = nz-number *("." nz-number)
            self.number(nz=True)
            while self.peek() == 0x2E and self.i + 1 < len(self.d) \
                    and self.d[self.i + 1] in _DIGITS:
                self.i += 1
                self.number(nz=True)
            if not binary and self.accept(b"."):
                if not self.accept(b"MIME"):
                    self.msgtext(after_part=True)
        elif not binary and c != 0x5D:
            self.msgtext(after_part=False)
        self.expect(b"]", '"]" ending the section')
        return self.d[start:self.i].decode("ascii")

    def msgtext(self, after_part):
        """section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP
        header-list / "TEXT"."""
        if self.accept(b"HEADER.FIELDS.NOT ") or self.accept(b"HEADER.FIELDS "):
            self.expect(b"(", '"(" of a header-list')
            self.astring()
            while not self.accept(b")"):
                self.sp('SP or ")" in a header-list')
                self.astring()
        elif not (self.accept(b"HEADER") or self.accept(b"TEXT")):
            self.fail("HEADER, HEADER.FIELDS, TEXT" + (" or MIME" if after_part else ""))

    def origin(self):
        """["<" number ">"] after a section."""
        if self.accept(b"<"):
            n = self.number(what="the origin octet")
            self.expect(b">", '">"')
            return n
        return None

    def msg_att_item(self):
        if self.accept(b"FLAGS "):
            return ("FLAGS", self.flag_list())
        if self.accept(b"UID "):
            return ("UID", self.number(nz=True, what="uniqueid"))
        if self.accept(b"INTERNALDATE "):
            return ("INTERNALDATE", self.date_time())
        if self.accept(b"RFC822.SIZE "):
            return ("RFC822.SIZE", self.number())
        for name in (b"RFC822.HEADER", b"RFC822.TEXT", b"RFC822"):
            if self.accept(name + b" "):
                return (name.decode(), self.nstring())
        if self.accept(b"ENVELOPE "):
            return ("ENVELOPE", self.envelope())
        if self.accept(b"BODYSTRUCTURE "):
            return ("BODYSTRUCTURE", self.body(True))
        if self.accept(b"BODY "):
            return ("BODY", self.body(False))
        if self.accept(b"BODY"):
            if self.peek() != 0x5B:
                self.fail('SP or "[" after BODY')
            name = "BODY" + self.section(False)
            o = self.origin()
            if o is not None:
                name += "<%d>" % o
            self.sp()
            return (name, self.nstring("the section's nstring"))
        if self.accept(b"BINARY.SIZE"):
            name = "BINARY.SIZE" + self.section(True)
            self.sp()
            if "binary-size-nil" in self.allow and self.accept(b"NIL"):
                return (name, None)
            return (name, self.number(what="BINARY.SIZE's number (RFC 3516)"))
        if self.accept(b"BINARY"):
            if self.peek() != 0x5B:
                self.fail('"[" after BINARY')
            name = "BINARY" + self.section(True)
            # RFC 3516 4.3: BINARY[<section-binary>]<<number>>
            o = self.origin()
            if o is not None:
                name += "<%d>" % o
            self.sp()
            if self.peek() == 0x7E:
                return (name, self.literal(eight=True))
            return (name, self.nstring("nstring or literal8"))
        self.fail("a msg-att item (FLAGS, UID, INTERNALDATE, RFC822*, ENVELOPE, "
                  "BODY*, BINARY*)")

    def msg_att(self):
        """"(" (msg-att-dynamic / msg-att-static) *(SP ...) ")"."""
        self.expect(b"(", '"(" of msg-att')
        items = [self.msg_att_item()]
        while not self.accept(b")"):
            self.sp('SP or ")" after a msg-att item')
            items.append(self.msg_att_item())
        return items

    # -- whole responses ----------------------------------------------------
    def resp_text(self):
        """["[" resp-text-code "]" SP] text; a code is parsed in its
        general form, atom [SP 1*<any TEXT-CHAR except "]">]."""
        code = None
        if self.accept(b"["):
            start = self.i
            self.atom("resp-text-code")
            if self.accept(b" "):
                s = self.i
                while self.peek() is not None and _text_char(self.peek()) and self.peek() != 0x5D:
                    self.i += 1
                if self.i == s:
                    self.fail("the resp-text-code's arguments")
            code = self.d[start:self.i].decode("ascii")
            self.expect(b"]", '"]" ending resp-text-code')
            self.sp()
        start = self.i
        while self.peek() is not None and _text_char(self.peek()):
            self.i += 1
        if self.i == start:
            self.fail("text (1*TEXT-CHAR)")
        return code, self.d[start:self.i].decode("ascii")

    def response(self):
        """One response line (with its literals), CRLF included."""
        if self.accept(b"* "):
            for cond in (b"OK", b"NO", b"BAD", b"BYE"):
                if self.accept(cond + b" "):
                    r = Untagged(cond.decode(), None, self.resp_text())
                    break
            else:
                if self.accept(b"FLAGS "):
                    r = Untagged("FLAGS", None, self.flag_list())
                else:
                    at = self.i
                    n = self.number()
                    self.sp()
                    if self.accept(b"FETCH "):
                        if n == 0:
                            self.fail("nz-number before FETCH", at)
                        r = Fetch(n, self.msg_att())
                    elif self.accept(b"EXPUNGE"):
                        if n == 0:
                            self.fail("nz-number before EXPUNGE", at)
                        r = Untagged("EXPUNGE", n, None)
                    elif self.accept(b"EXISTS"):
                        r = Untagged("EXISTS", n, None)
                    elif self.accept(b"RECENT"):
                        r = Untagged("RECENT", n, None)
                    else:
                        self.fail("FETCH, EXPUNGE, EXISTS or RECENT")
            self.crlf()
            return r
        # tag = 1*<any ASTRING-CHAR except "+">
        start = self.i
        while self.peek() is not None and _astring_char(self.peek()) and self.peek() != 0x2B:
            self.i += 1
        if self.i == start:
            self.fail('"* " or a tag')
        tag = self.d[start:self.i].decode("ascii")
        self.sp()
        for st in (b"OK", b"NO", b"BAD"):
            if self.accept(st + b" "):
                break
        else:
            self.fail("OK, NO or BAD")
        code, text = self.resp_text()
        self.crlf()
        return Tagged(tag, st.decode(), code, text)


def parse_response(data, tag=None, allow=(), full_ext=False):
    """Every response in data, which must end with exactly one tagged
    response (with tag, when given) and hold nothing after it."""
    p = Parser(data, allow, full_ext)
    out = []
    while True:
        if p.i >= len(p.d):
            p.fail("a tagged response ending the data")
        start = p.i
        r = p.response()
        out.append(r)
        if isinstance(r, Tagged):
            if tag is not None and r.tag != tag:
                p.fail("the tag %r" % tag, start)
            if p.i != len(p.d):
                p.fail("nothing after the tagged response")
            return out


def parse_fetch(data, tag=None, allow=(), full_ext=False):
    """(fetches, others, tagged) from the bytes one FETCH got back."""
    rs = parse_response(data, tag, allow, full_ext)
    return ([r for r in rs if isinstance(r, Fetch)],
            [r for r in rs if isinstance(r, Untagged)], rs[-1])

