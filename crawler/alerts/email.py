"""The email channel: multipart text + HTML mail over SMTP (none, STARTTLS or SSL).

Recipients are given to the server explicitly (the SMTP envelope), never read back from the
headers, so a hostile title cannot add one; header values are folded to one line and set
through EmailMessage's header policy, which refuses CR/LF on its own as a second guard.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from crawler.alerts.base import Alert, DeliveryError, Outgoing
from crawler.alerts.digests import schedule_of
from crawler.alerts.email_body import html_body, text_body
from crawler.alerts.render import subject
from crawler.config import EmailChannel as EmailConfig
from crawler.safe_text import one_line

logger = logging.getLogger(__name__)


class EmailChannel:
    """Alerts by SMTP: one mail per story (instant) or per delivery pass (digest)."""

    def __init__(self, config: EmailConfig, name: str = "email"):
        self.name = name
        self.config = config
        self.digest = config.is_digest
        self.schedule = schedule_of(config)

    def compose(self, alerts: Sequence[Alert]) -> list[Outgoing]:
        """One mail per story (instant) or one for all stories (digest); notices alone."""
        stories = [a for a in alerts if not a.is_notice]
        groups = [[a] for a in alerts if a.is_notice]
        groups += [stories] if self.digest and stories else [[a] for a in stories]
        return [Outgoing(tuple(g), self.message(g)) for g in groups]

    def message(self, alerts: Sequence[Alert]) -> EmailMessage:
        """The mail for these alerts."""
        msg = EmailMessage()
        msg["Subject"] = one_line(subject(alerts), 250)
        msg["From"] = self.config.sender
        msg["To"] = ", ".join(self.config.to)
        msg["Date"] = format_datetime(datetime.now(UTC))
        msg["Message-ID"] = make_msgid(domain=self.config.sender.rpartition("@")[2] or None)
        msg["Auto-Submitted"] = "auto-generated"  # keeps vacation replies away (RFC 3834)
        msg.set_content(text_body(alerts))
        msg.add_alternative(html_body(alerts), subtype="html")
        return msg

    def send(self, message: Outgoing) -> None:
        """Send one mail; DeliveryError on failure (permanent for 5xx refusals)."""
        try:
            self._send(message.body)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(
                f"{self.name}: every recipient refused: {self._describe(exc.recipients)}",
                permanent=all(code >= 500 for code in codes),
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise self._response_error(exc) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{self.name}: {self._where()}: {self._safe(exc)}") from None

    def _send(self, msg: EmailMessage) -> None:
        cfg = self.config
        with self._connect() as smtp:
            if cfg.username:
                smtp.login(cfg.username, self._password())
            refused = smtp.send_message(msg, from_addr=cfg.sender, to_addrs=list(cfg.to))
        if refused:  # some recipients got it: the mail is sent, the rest is the admin's problem
            logger.warning("%s: some recipients refused: %s", self.name, self._describe(refused))

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        context = ssl.create_default_context()  # verifies the server's certificate and name
        if cfg.security == "ssl":
            return smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=context)
        smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
        if cfg.security == "starttls":
            try:
                smtp.starttls(context=context)
            except BaseException:
                smtp.close()
                raise
        return smtp

    def _password(self) -> str:
        password = self.config.password()
        if password is None:
            raise DeliveryError(
                f"{self.name}: SMTP password not set: environment variable "
                f"{self.config.password_env or '(password_env not configured)'} is empty"
            )
        return password

    def _response_error(self, exc: smtplib.SMTPResponseException) -> DeliveryError:
        reply = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        # A 5xx refusal of the message itself will not change on retry; a 5xx to the login or
        # the sender is configuration the operator can fix, so those stay retryable.
        permanent = exc.smtp_code >= 500 and isinstance(exc, smtplib.SMTPDataError)
        what = "login refused" if isinstance(exc, smtplib.SMTPAuthenticationError) else "refused"
        return DeliveryError(
            f"{self.name}: {self._where()} {what}: {exc.smtp_code} {self._safe(reply)}",
            permanent=permanent,
        )

    def _describe(self, refused: dict) -> str:
        return "; ".join(
            f"{one_line(str(rcpt))}: {code} {self._safe(reply)}"
            for rcpt, (code, reply) in refused.items()
        )

    def _where(self) -> str:
        return f"SMTP {self.config.host}:{self.config.port}"

    def _safe(self, value: object) -> str:
        """Server replies and exception text, one line, with the password cut out."""
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        password = self.config.password()
        if password:
            text = text.replace(password, "[redacted]")
        return one_line(text, 300) or type(value).__name__
