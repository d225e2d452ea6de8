"""``send_mail``, the SMTP transaction the ``smtp`` transport runs for each message.

It replaces ``smtplib.SMTP.sendmail`` on the hot path (MAIL, RCPT and DATA in one
write where PIPELINING is offered, dot-stuffing without a regular expression), so
these tests hold it to what smtplib does: the same envelope and bytes arrive, the
same refusals raise the same exceptions, and the session stays usable after one.
Both with and without PIPELINING on offer; a scripted server covers replies that
aiosmtpd never gives (a refused sender, DATA taken after a refused recipient, 421).
"""

from __future__ import annotations

import smtplib
import socket
import threading
from collections.abc import Iterator

import pytest

from tests.sending.smtp_server import SmtpServer
from tidings.sending.assemble import Outgoing
from tidings.sending.transports import PermanentFailure, SmtpTransport, TransientFailure, send_mail

SENDER = "bounces+abc@mail.example.com"
BODIES = [
    b"From: a@example.com\r\nTo: b@example.net\r\nSubject: hi\r\n\r\nHello\r\n",
    # Lines that begin with a dot, the first one of the message too; a last line without CRLF.
    b".starts with a dot\r\nSubject: x\r\n\r\n.\r\n..two\r\nmid.dle\r\n.last",
    b"Subject: long\r\n\r\n" + b"=3D" * 25 + b"=\r\n" + b"x" * 70 + b"\r\n" * 3,
]


@pytest.fixture(params=[True, False], ids=["pipelining", "one-at-a-time"])
def server(request: pytest.FixtureRequest) -> Iterator[SmtpServer]:
    with SmtpServer(pipelining=request.param) as running:
        yield running


def _client(server: SmtpServer) -> smtplib.SMTP:
    client = smtplib.SMTP(server.host, server.port, timeout=10)
    client.ehlo()
    return client


def test_the_server_offers_pipelining_only_when_asked(server: SmtpServer) -> None:
    client = _client(server)
    assert client.has_extn("pipelining") is server.pipelining
    client.quit()


@pytest.mark.parametrize("body", BODIES, ids=["plain", "dots", "long-lines"])
def test_the_same_envelope_and_bytes_arrive_as_with_smtplib(server: SmtpServer, body: bytes) -> None:
    client = _client(server)
    client.sendmail(SENDER, ["someone@example.net"], body)
    send_mail(client, SENDER, "someone@example.net", body)
    client.quit()
    by_smtplib, by_us = server.messages
    assert by_us == by_smtplib
    assert (by_us.mail_from, by_us.rcpt_tos) == (SENDER, ["someone@example.net"])


def test_many_messages_on_one_session(server: SmtpServer) -> None:
    client = _client(server)
    for i in range(20):
        send_mail(client, SENDER, f"r{i}@example.net", b"Subject: n\r\n\r\n" + str(i).encode() + b"\r\n")
    client.quit()
    assert [m.rcpt_tos[0] for m in server.messages] == [f"r{i}@example.net" for i in range(20)]


@pytest.mark.parametrize("code", [550, 451])
def test_a_refused_recipient_raises_what_smtplib_raises_and_the_session_goes_on(
    server: SmtpServer, code: int
) -> None:
    server.reject("gone@example.net", code, "5.1.1 No such user" if code == 550 else "4.2.0 Try later")
    client = _client(server)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as ours:
        send_mail(client, SENDER, "gone@example.net", BODIES[0])
    with pytest.raises(smtplib.SMTPRecipientsRefused) as theirs:
        client.sendmail(SENDER, ["gone@example.net"], BODIES[0])
    assert ours.value.recipients == theirs.value.recipients
    assert ours.value.recipients["gone@example.net"][0] == code
    send_mail(client, SENDER, "here@example.net", BODIES[0])  # nothing of the refused one is left over
    client.quit()
    assert [m.rcpt_tos for m in server.messages] == [["here@example.net"]]


# -- replies aiosmtpd does not give: a scripted server -----------------------------------------------


class Scripted:
    """SMTP sessions on 127.0.0.1 (``sessions`` of them, one after another) that answer each
    command from ``replies`` (by verb; the first session only, if ``first_only``), else 250."""

    def __init__(
        self, replies: dict[str, str], *, pipelining: bool = True, sessions: int = 1, first_only: bool = False
    ) -> None:
        self.replies, self.pipelining, self.first_only = replies, pipelining, first_only
        self.commands: list[str] = []
        self.data: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, args=(sessions,), daemon=True)
        self.thread.start()

    def _serve(self, sessions: int) -> None:
        for session in range(sessions):
            conn, _ = self.listener.accept()
            self._session(conn, self.replies if session == 0 or not self.first_only else {})
        self.listener.close()

    def _session(self, conn: socket.socket, replies: dict[str, str]) -> None:
        reader = conn.makefile("rb")
        conn.sendall(b"220 scripted ESMTP\r\n")
        while line := reader.readline():
            command = line.decode().strip()
            verb = command.split(" ", 1)[0].split(":", 1)[0].upper()
            self.commands.append(command)
            if verb == "EHLO":
                extensions = "250-PIPELINING\r\n" if self.pipelining else ""
                conn.sendall(f"250-scripted\r\n{extensions}250 SIZE 1000000\r\n".encode())
                continue
            if verb == "QUIT":
                conn.sendall(b"221 bye\r\n")
                break
            reply = replies.get(verb, "354 go ahead" if verb == "DATA" else "250 ok")
            conn.sendall(f"{reply}\r\n".encode())
            if verb == "DATA" and reply.startswith("354"):
                chunks = []
                while (chunk := reader.readline()) not in (b".\r\n", b""):
                    chunks.append(chunk)
                self.data.append(b"".join(chunks))
                conn.sendall(f"{replies.get('END', '250 queued')}\r\n".encode())
            if reply.startswith("421"):
                break
        conn.close()

    def client(self) -> smtplib.SMTP:
        client = smtplib.SMTP("127.0.0.1", self.port, timeout=10)
        client.ehlo()
        return client


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-at-a-time"])
def test_a_refused_sender_raises_sender_refused_and_resets(pipelining: bool) -> None:
    server = Scripted({"MAIL": "553 5.7.1 Sender not allowed"}, pipelining=pipelining)
    client = server.client()
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        send_mail(client, SENDER, "a@example.net", BODIES[0])
    assert (refused.value.smtp_code, refused.value.sender) == (553, SENDER)
    client.quit()
    verbs = [c.split(" ")[0].split(":")[0].upper() for c in server.commands]
    # Pipelined, RCPT and DATA went out with MAIL (and were refused by the server); else nothing after MAIL.
    assert verbs == (
        ["EHLO", "MAIL", "RCPT", "DATA", "RSET", "QUIT"] if pipelining else ["EHLO", "MAIL", "RSET", "QUIT"]
    )


def test_data_taken_after_a_refused_recipient_is_ended_empty() -> None:
    server = Scripted({"RCPT": "550 5.1.1 No such user"})  # and, against RFC 2920, 354 to DATA
    client = server.client()
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send_mail(client, SENDER, "gone@example.net", BODIES[0])
    client.quit()
    assert server.data == [b""]  # the message was ended at once, nothing of it sent
    assert [c.upper() for c in server.commands[-2:]] == ["RSET", "QUIT"]


@pytest.mark.parametrize(
    ("replies", "error"),
    [
        ({"DATA": "554 5.3.4 Too big"}, smtplib.SMTPDataError),
        ({"END": "552 5.3.4 Message too big"}, smtplib.SMTPDataError),
        ({"END": "451 4.3.0 Try again"}, smtplib.SMTPDataError),
        ({"RCPT": "421 4.3.2 Shutting down"}, smtplib.SMTPRecipientsRefused),
    ],
    ids=["data-refused", "message-refused", "message-deferred", "closing"],
)
def test_refusals_of_the_message_raise_what_smtplib_raises(replies: dict[str, str], error: type) -> None:
    server = Scripted(replies)
    client = server.client()
    with pytest.raises(error) as raised:
        send_mail(client, SENDER, "a@example.net", BODIES[0])
    reply = next(iter(replies.values()))
    code = int(reply[:3])
    if isinstance(raised.value, smtplib.SMTPRecipientsRefused):
        assert raised.value.recipients["a@example.net"][0] == code
        assert client.sock is None  # 421: the server is closing the session, so is the client
    else:
        assert raised.value.smtp_code == code
        assert raised.value.smtp_error == reply[4:].encode()
        client.quit()


def test_a_421_after_another_refusal_closes_the_session() -> None:
    server = Scripted({"RCPT": "550 5.1.1 No such user", "DATA": "421 4.3.2 Closing"})
    client = server.client()
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send_mail(client, SENDER, "gone@example.net", BODIES[0])
    assert client.sock is None  # not an RSET into a closed connection


def _outgoing() -> Outgoing:
    return Outgoing(
        from_email="news@example.com",
        to="a@example.net",
        subject="Hi",
        html="<p>Hi</p>",
        text="Hi",
        message_id="<1@example.com>",
    )


def test_the_transport_opens_a_new_session_after_the_server_closed_one() -> None:
    server = Scripted({"RCPT": "421 4.3.2 Shutting down"}, sessions=2, first_only=True)
    transport = SmtpTransport({"host": "127.0.0.1", "port": server.port, "security": "none"}, {})
    with pytest.raises(TransientFailure):
        transport.push(_outgoing(), None)
    assert transport.push(_outgoing(), None) == "<1@example.com>"  # on a new session
    transport.close()
    assert len(server.data) == 1


def test_a_message_over_the_servers_size_limit_fails_alone() -> None:
    server = Scripted({"MAIL": "552 5.3.4 Message size exceeds fixed limit"})
    transport = SmtpTransport({"host": "127.0.0.1", "port": server.port, "security": "none"}, {})
    with pytest.raises(PermanentFailure) as failed:
        transport.push(_outgoing(), None)
    assert failed.value.code == "5.3.4"
    assert not failed.value.bounce
    transport.close()
