"""The one channel for what the tool prints, with passwords masked."""

import logging
import re
import urllib.parse

MASK = "***"

# Passwords this long or longer are masked wherever they appear.
_MIN_SECRET = 4

# "scheme://user:password@" in any text: the password part is masked.
_URL_CREDENTIALS = re.compile(
    r"(?P<head>\b[a-z][a-z0-9+.\-]*://[^:/@\s]*:)(?P<password>[^@\s]*)@",
    re.IGNORECASE,
)
# "?password=..." or "&passwd=..." in a URL's query: the value is masked.
_QUERY_PASSWORD = re.compile(
    r"(?P<head>[?&](?:password|passwd)=)(?P<password>[^&\s]*)",
    re.IGNORECASE,
)

# "user:password@" anywhere, to learn the password of a malformed URL.
# Not "scheme://user@": a URL without a password has none to learn.
_ANY_CREDENTIALS = re.compile(r"[^:/@\s]+:(?!//)(?P<password>[^@\s]+)@")


class Redactor:
    """Masks database passwords in any text."""

    def __init__(self):
        self._secrets = set()

    def add_url(self, url):
        """Remember the password of a connection URL, in every spelling."""
        for pattern in (_URL_CREDENTIALS, _QUERY_PASSWORD, _ANY_CREDENTIALS):
            for match in pattern.finditer(url or ""):
                self._add_secret(match["password"])

    def _add_secret(self, raw):
        spellings = [raw, urllib.parse.unquote(raw)]
        try:
            spellings.append(
                urllib.parse.quote(urllib.parse.unquote(raw), safe=""))
        except UnicodeError:
            pass    # bytes that are not UTF-8 have no URL-encoded spelling
        for secret in spellings:
            # Shorter ones would mask revision ids and words; the URL
            # pattern above still masks them wherever a URL is printed.
            if len(secret) >= _MIN_SECRET:
                self._secrets.add(secret)

    def __call__(self, text):
        text = _URL_CREDENTIALS.sub(rf"\g<head>{MASK}@", str(text))
        text = _QUERY_PASSWORD.sub(rf"\g<head>{MASK}", text)
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text


class RedactingStream:
    """A text stream that masks passwords before writing to another."""

    def __init__(self, stream, redact):
        self._stream = stream
        self._redact = redact

    def write(self, text):
        return self._stream.write(self._redact(text))

    def flush(self):
        self._stream.flush()

    def __getattr__(self, name):
        return getattr(self._stream, name)


class RedactingFilter(logging.Filter):
    """Masks passwords in log records, tracebacks included."""

    def __init__(self, redact):
        super().__init__()
        self._redact = redact

    def filter(self, record):
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(
                record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg = self._redact(message)
        record.args = None
        return True
