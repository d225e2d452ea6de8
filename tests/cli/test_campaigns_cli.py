"""`tidings campaigns …` and `tidings send`, run in this process against the test database."""

from __future__ import annotations

import email
import email.policy
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.sending import factories as f
from tidings import cli
from tidings.audience.models import Contact, ContactStatus
from tidings.audience.segments import segment_create
from tidings.campaigns.models import Campaign, CampaignOrigin, CampaignStatus, IdempotentRequest
from tidings.sending.models import Message, MessageState
from tidings.sending.pipeline import run_campaign
from tidings.sending.transports import outbox_folder

pytestmark = pytest.mark.django_db

TEMPLATE = (
    "<html><body><p>Hello {{ customer | default: 'friend' }}, order {{ orderNumber }}.</p></body></html>"
)


class Done:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    @property
    def err_lines(self) -> list[str]:
        return self.err.strip().splitlines()


Run = Callable[..., Done]


@pytest.fixture
def tidings(capsys: pytest.CaptureFixture[str]) -> Run:
    """``tidings ARGS`` in this process: exit code, stdout and stderr."""

    def run(*args: Any) -> Done:
        capsys.readouterr()
        umask = os.umask(0o022)
        os.umask(umask)
        try:
            cli.main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            os.umask(umask)
        captured = capsys.readouterr()
        return Done(code, captured.out, captured.err)

    return run


@pytest.fixture
def outbox(project: Any, settings: Any, tmp_path: Path) -> Path:
    """The project can send: example.com is verified and the outbox is the default connection."""
    settings.DATA_DIR = tmp_path / "data"
    f.verified_domain(project)
    connection = f.outbox_connection(project)
    return outbox_folder(connection)


@pytest.fixture
def news(project: Any) -> Any:
    """A tag "news" on three subscribed contacts and one who unsubscribed."""
    tag = f.tag(project, "news")
    people = f.contacts(project, 4, tag=tag)
    Contact.objects.filter(pk=people[0].pk).update(status=ContactStatus.UNSUBSCRIBED)
    return tag


def create(tidings: Run, project: Any, *extra: Any) -> tuple[Done, Campaign | None]:
    design = f.design(project)
    done = tidings(
        "campaigns", "create", "--project", project.slug, "--name", "December news",
        "--design-id", design.pk, "--from", "news@example.com", "--from-name", "Acme News",
        *(extra or ("--tag", "news")),
    )  # fmt: skip
    match = re.search(r"\(id (\d+)\)", done.out)
    return done, Campaign.objects.get(pk=int(match.group(1))) if match else None


def started(tidings: Run, project: Any) -> Campaign:
    _, campaign = create(tidings, project)
    assert campaign is not None
    done = tidings("campaigns", "send", campaign.pk, "--project", project.slug)
    assert done.code == 0, done.err
    campaign.refresh_from_db()
    return campaign


# -- help ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        "campaigns list",
        "campaigns create",
        "campaigns send",
        "campaigns schedule",
        "campaigns pause",
        "campaigns resume",
        "campaigns cancel",
        "campaigns status",
        "send",
    ],
)
def test_each_command_has_help(tidings: Run, command: str) -> None:
    done = tidings(*command.split(), "--help")
    assert done.code == 0
    assert done.out.startswith("usage: tidings " + command)


# -- campaigns create, list --------------------------------------------------------------------------


def test_create_with_a_tag_by_name_prints_the_id_and_the_preflight(
    tidings: Run, project: Any, news: Any
) -> None:
    done, campaign = create(tidings, project)
    assert done.code == 0, done.err
    assert campaign is not None
    assert (campaign.status, campaign.recipient_type, campaign.recipient_id) == ("draft", "tag", news.pk)
    assert done.out.splitlines() == [
        f"created campaign December news (id {campaign.pk})",
        "problem: no provider connection: add one under Settings → Email providers",
        "eligible recipients: 3 (excluded: 1 unsubscribed)",
    ]


def test_create_of_a_campaign_ready_to_send(tidings: Run, project: Any, news: Any, outbox: Path) -> None:
    done, campaign = create(tidings, project, "--tag-id", news.pk, "--subject", "Hi", "--no-track-clicks")
    assert done.code == 0, done.err
    assert campaign is not None
    assert (campaign.subject, campaign.track_opens, campaign.track_clicks) == ("Hi", True, False)
    notes = [line for line in done.out.splitlines() if line.startswith("note: ")]
    assert all("Outbox is an outbox" in line for line in notes)
    assert [line for line in done.out.splitlines()[1:] if line not in notes] == [
        "eligible recipients: 3 (excluded: 1 unsubscribed)",
        f"ready: send it with 'tidings campaigns send {campaign.pk} --project {project.slug}'",
    ]


def test_create_to_an_audience(tidings: Run, project: Any, news: Any, outbox: Path) -> None:
    segment = segment_create(project=project, name="Everyone", filters={})
    done, campaign = create(tidings, project, "--segment-id", segment.pk)
    assert done.code == 0, done.err
    assert campaign is not None
    assert (campaign.recipient_type, campaign.recipient_id) == ("audience", segment.pk)
    assert "eligible recipients: 3" in done.out


def test_list_shows_id_name_status_and_sent_of_total(
    tidings: Run, project: Any, news: Any, outbox: Path
) -> None:
    campaign = started(tidings, project)
    _, draft = create(tidings, project)
    assert draft is not None
    done = tidings("campaigns", "list", "--project", project.slug)
    assert done.code == 0, done.err
    rows = [line.split() for line in done.out.splitlines()]
    assert rows[0] == ["id", "name", "status", "sent/total"]
    assert rows[1:] == [
        [str(draft.pk), "December", "news", "draft", "0/0"],
        [str(campaign.pk), "December", "news", "sending", "0/4"],
    ]
    done = tidings("campaigns", "list", "--project", project.slug, "--status", "sending")
    assert [line.split()[0] for line in done.out.splitlines()[1:]] == [str(campaign.pk)]


# -- campaigns send, status ------------------------------------------------------------------------------


def test_send_with_problems_says_each_on_its_own_line(tidings: Run, make_project: Callable[..., Any]) -> None:
    bare = make_project("No Address")  # no postal address, no provider connection
    f.tag(bare, "news")
    _, campaign = create(tidings, bare)
    assert campaign is not None
    done = tidings("campaigns", "send", campaign.pk, "--project", bare.slug)
    assert done.code == 1
    assert done.out == ""
    assert done.err_lines == [
        f"tidings: campaign {campaign.pk} cannot start: "
        "no provider connection: add one under Settings → Email providers",
        f"tidings: campaign {campaign.pk} cannot start: marketing email must carry the sender's postal "
        "address: set it in Settings → Project",
    ]
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    assert not Message.objects.filter(campaign=campaign).exists()


def test_send_then_the_pipeline_then_status_shows_it_sent(
    tidings: Run, project: Any, news: Any, outbox: Path
) -> None:
    _, campaign = create(tidings, project)
    assert campaign is not None
    done = tidings("campaigns", "send", campaign.pk, "--project", project.slug)
    assert (done.code, done.err) == (0, "")
    assert done.out == f"campaign {campaign.pk} is sending: 3 queued, 1 skipped (1 unsubscribed)\n"
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENDING
    again = tidings("campaigns", "send", campaign.pk, "--project", project.slug)
    assert (again.code, again.out) == (0, f"campaign {campaign.pk} is already sending\n")

    assert run_campaign(Campaign.objects.get(pk=campaign.pk)).sent == 3
    done = tidings("campaigns", "status", campaign.pk, "--project", project.slug)
    assert done.code == 0, done.err
    assert done.out.splitlines() == [
        f"campaign {campaign.pk} (December news): sent",
        "4 messages: 3 sent, 0 failed, 1 skipped, 0 cancelled, 0 queued (skipped: 1 unsubscribed)",
    ]
    assert len(list(outbox.glob("*.eml"))) == 3
    refused = tidings("campaigns", "send", campaign.pk, "--project", project.slug)
    assert refused.code == 1
    assert refused.err_lines == [
        f"tidings: campaign {campaign.pk} is sent: only a draft or scheduled one can be sent"
    ]


def test_status_of_a_sending_campaign_has_rate_and_eta(
    tidings: Run, project: Any, news: Any, outbox: Path
) -> None:
    campaign = started(tidings, project)
    done = tidings("campaigns", "status", campaign.pk, "--project", project.slug)
    assert done.out.splitlines() == [
        f"campaign {campaign.pk} (December news): sending",
        "4 messages: 0 sent, 0 failed, 1 skipped, 0 cancelled, 3 queued (skipped: 1 unsubscribed)",
        "0.0 msg/s, 25.0% done, ETA -:--:--",
    ]


def test_status_json(tidings: Run, project: Any, news: Any, outbox: Path) -> None:
    import json

    campaign = started(tidings, project)
    done = tidings("campaigns", "status", campaign.pk, "--project", project.slug, "--json")
    answer = json.loads(done.out)
    assert (answer["id"], answer["status"]) == (campaign.pk, "sending")
    assert (answer["progress"]["queued"], answer["progress"]["skipped"]) == (3, 1)


def test_watch_of_a_sent_campaign_returns_at_once_with_the_final_counts(
    tidings: Run, project: Any, news: Any, outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign = started(tidings, project)
    run_campaign(Campaign.objects.get(pk=campaign.pk))

    def no_sleep(seconds: float) -> None:
        raise AssertionError("a finished campaign is not watched")

    monkeypatch.setattr(cli.time, "sleep", no_sleep)
    done = tidings("campaigns", "status", campaign.pk, "--project", project.slug, "--watch")
    assert done.code == 0, done.err
    assert "\r" not in done.out  # not a terminal: plain lines
    assert done.out.splitlines() == [
        "[####################] 100.0%  3/4 sent  0 failed  1 skipped  0.1 msg/s  ETA 0:00:00",
        f"campaign {campaign.pk} (December news): sent",
        "4 messages: 3 sent, 0 failed, 1 skipped, 0 cancelled, 0 queued (skipped: 1 unsubscribed)",
    ]


def test_watch_redraws_one_line_on_a_terminal_until_the_campaign_is_sent(
    tidings: Run, project: Any, news: Any, outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign = started(tidings, project)
    sleeps: list[float] = []

    def send_meanwhile(seconds: float) -> None:
        sleeps.append(seconds)
        run_campaign(Campaign.objects.get(pk=campaign.pk))

    monkeypatch.setattr(cli.time, "sleep", send_meanwhile)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    done = tidings("campaigns", "status", campaign.pk, "--project", project.slug, "--watch")
    assert done.code == 0, done.err
    assert sleeps == [cli.WATCH_EVERY]
    bar, *final = done.out.split("\n")
    frames = bar.split("\r")[1:]
    assert frames[0].startswith("[#####...............]  25.0%  0/4 sent  0 failed  1 skipped  0.0 msg/s")
    assert frames[1].startswith("[####################] 100.0%  3/4 sent  0 failed  1 skipped")
    assert final[0] == f"campaign {campaign.pk} (December news): sent"


def test_watch_stops_on_ctrl_c_with_the_counts(
    tidings: Run, project: Any, news: Any, outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign = started(tidings, project)

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.time, "sleep", interrupted)
    done = tidings("campaigns", "status", campaign.pk, "--project", project.slug, "--watch")
    assert done.code == 0, done.err
    lines = done.out.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("[#####...............]  25.0%  0/4 sent")
    assert lines[1] == f"campaign {campaign.pk} (December news): sending"


# -- pause, resume, cancel, schedule ----------------------------------------------------------------------


def test_pause_resume_cancel(tidings: Run, project: Any, news: Any, outbox: Path) -> None:
    campaign = started(tidings, project)
    slug = project.slug
    done = tidings("campaigns", "pause", campaign.pk, "--project", slug)
    assert (done.code, done.out) == (0, f"campaign {campaign.pk} is paused: 0 of 4 sent, 3 waiting\n")
    done = tidings("campaigns", "send", campaign.pk, "--project", slug)
    assert done.code == 1
    assert done.err_lines == [
        f"tidings: campaign {campaign.pk} is paused: only a draft or scheduled one can be sent; "
        f"resume it with 'tidings campaigns resume {campaign.pk}'"
    ]
    done = tidings("campaigns", "resume", campaign.pk, "--project", slug)
    assert (done.code, done.out) == (0, f"campaign {campaign.pk} is sending: 3 left to send\n")
    done = tidings("campaigns", "cancel", campaign.pk, "--project", slug)
    assert (done.code, done.out) == (0, f"campaign {campaign.pk} is cancelled: 3 messages left unsent\n")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED
    assert Message.objects.filter(campaign=campaign, state=MessageState.CANCELLED).count() == 3
    done = tidings("campaigns", "pause", campaign.pk, "--project", slug)
    assert done.code == 1
    assert done.err_lines == ["tidings: only a sending campaign can be paused; this one is cancelled"]
    done = tidings("campaigns", "cancel", campaign.pk, "--project", slug)
    assert done.code == 1
    assert done.err_lines == ["tidings: a cancelled campaign cannot be cancelled"]


def test_schedule_in_a_time_zone(tidings: Run, project: Any, news: Any, outbox: Path) -> None:
    _, campaign = create(tidings, project)
    assert campaign is not None
    done = tidings(
        "campaigns", "schedule", campaign.pk, "--project", project.slug,
        "--at", "2036-12-01 09:30", "--timezone", "Europe/Berlin",
    )  # fmt: skip
    assert done.code == 0, done.err
    assert done.out == (
        f"campaign {campaign.pk} is scheduled for 2036-12-01 09:30 Europe/Berlin (2036-12-01 08:30 UTC)\n"
    )
    campaign.refresh_from_db()
    assert (campaign.status, campaign.timezone) == ("scheduled", "Europe/Berlin")
    done = tidings("campaigns", "status", campaign.pk, "--project", project.slug)
    assert done.out.splitlines()[:2] == [
        f"campaign {campaign.pk} (December news): scheduled",
        "scheduled for 2036-12-01 09:30 Europe/Berlin",
    ]


@pytest.mark.parametrize(
    ("at", "zone", "message"),
    [
        ("2036-12-01 09:30", "Mars/Base", "--timezone: 'Mars/Base' is not a known time zone (e.g. Europe/"),
        ("next tuesday", None, "--at: must be a date and time like 2026-12-01T09:30"),
        ("2001-01-01 09:30", None, "--at: must be in the future"),
    ],
)
def test_schedule_refuses_a_bad_time(
    tidings: Run, project: Any, news: Any, outbox: Path, at: str, zone: str | None, message: str
) -> None:
    _, campaign = create(tidings, project)
    assert campaign is not None
    done = tidings(
        "campaigns", "schedule", campaign.pk, "--project", project.slug, "--at", at,
        *(("--timezone", zone) if zone else ()),
    )  # fmt: skip
    assert done.code == 1
    assert len(done.err_lines) == 1
    assert done.err.startswith(f"tidings: campaign {campaign.pk} cannot be scheduled: {message}")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


# -- bad input to the campaign commands --------------------------------------------------------------------


@pytest.mark.parametrize("action", ["send", "pause", "resume", "cancel", "status"])
def test_an_id_of_another_project_is_not_found(
    tidings: Run, project: Any, other_project: Any, news: Any, action: str
) -> None:
    _, theirs = create(tidings, project)
    assert theirs is not None
    done = tidings("campaigns", action, theirs.pk, "--project", other_project.slug)
    assert done.code == 1
    assert done.err_lines == [f"tidings: no campaign with id {theirs.pk} in {other_project.slug}"]
    done = tidings("campaigns", action, 999_999, "--project", project.slug)
    assert done.err_lines == [f"tidings: no campaign with id 999999 in {project.slug}"]
    theirs.refresh_from_db()
    assert theirs.status == CampaignStatus.DRAFT


@pytest.mark.parametrize(
    ("extra", "message", "code"),
    [
        (("--tag", "nope"), "tidings: no tag named 'nope' in acme-mail", 1),
        (("--tag-id", "999999"), "tidings: --tag-id: no tag with id 999999 in this project", 1),
        (("--segment-id", "999999"), "tidings: --segment-id: no audience with id 999999 in this project", 1),
        (("--tag", "news", "--from", "not an address"), "tidings: --from: is not a valid email address", 1),
        (("--tag", "news", "--design-id", "999999"), "tidings: --design-id: no email with id 999999", 1),
        (("--tag", "news", "--topic-id", "999999"), "tidings: --topic-id: no topic with id 999999", 1),
        (("--tag", "news", "--project", "nope"), "tidings: no project with slug 'nope'", 1),
        (("--tag-id", "x"), "tidings: argument --tag-id: expected a whole number, got 'x'", 2),
        ((), "tidings: one of the arguments --segment-id --tag-id --tag is required", 2),
    ],
)
def test_create_refuses_bad_input_and_creates_nothing(
    tidings: Run, project: Any, news: Any, extra: tuple[str, ...], message: str, code: int
) -> None:
    design = f.design(project)
    done = tidings(
        "campaigns", "create", "--project", project.slug, "--name", "X", "--design-id", design.pk,
        "--from", "news@example.com", *extra,
    )  # fmt: skip
    assert done.code == code
    assert len(done.err_lines) == 1, done.err
    assert done.err.startswith(message)
    assert not Campaign.objects.exists()


def test_create_of_a_tag_of_another_project_is_refused(
    tidings: Run, project: Any, other_project: Any, news: Any
) -> None:
    f.tag(other_project, "theirs")
    done, _ = create(tidings, project, "--tag", "theirs")
    assert (done.code, done.err_lines) == (1, ["tidings: no tag named 'theirs' in acme-mail"])
    done, _ = create(tidings, other_project, "--tag-id", news.pk)
    assert done.code == 1
    assert done.err_lines == [f"tidings: --tag-id: no tag with id {news.pk} in this project"]
    assert not Campaign.objects.exists()


# -- tidings send --------------------------------------------------------------------------------


def send(tidings: Run, project: Any, *extra: Any) -> Done:
    return tidings("send", "--project", project.slug, "--from", "hello@example.com", *extra)


def eml_files(folder: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for path in sorted(folder.glob("*.eml"))
    ]


def test_send_to_one_address_with_a_template_file_lands_in_the_outbox(
    tidings: Run, project: Any, outbox: Path, tmp_path: Path
) -> None:
    template = tmp_path / "receipt.html"
    template.write_text(TEMPLATE, encoding="utf-8")
    done = send(
        tidings, project, "--to", "guest@example.net", "--subject", "Order {{ orderNumber }}",
        "--template-file", template, "--var", "orderNumber=A-17", "--var", "customer=Guest",
    )  # fmt: skip
    assert (done.code, done.err) == (0, "")
    batch = Campaign.objects.get(origin=CampaignOrigin.API)
    message = Message.objects.get(campaign=batch)
    assert done.out == f"batch {batch.pk}: send {message.pk} queued\n"
    assert batch.transactional
    assert batch.variables == {"orderNumber": "A-17", "customer": "Guest"}

    assert run_campaign(Campaign.objects.get(pk=batch.pk)).sent == 1
    [received] = eml_files(outbox)
    assert received["To"] == "guest@example.net"
    assert received["Subject"] == "Order A-17"
    html = received.get_body(("html",)).get_content()
    assert "Hello Guest, order A-17." in html


def test_send_html_to_a_tag_as_marketing(tidings: Run, project: Any, news: Any, outbox: Path) -> None:
    done = send(tidings, project, "--tag", "news", "--subject", "News", "--html", "<p>Hi {{ firstName }}</p>")
    assert done.code == 0, done.err
    batch = Campaign.objects.get(origin=CampaignOrigin.API)
    assert done.out == f"batch {batch.pk}: 3 queued, 1 skipped (1 unsubscribed)\n"
    assert not batch.transactional
    run_campaign(Campaign.objects.get(pk=batch.pk))
    assert len(eml_files(outbox)) == 3


def test_send_a_saved_design_to_an_unsubscribed_contact_is_skipped(
    tidings: Run, project: Any, news: Any, outbox: Path
) -> None:
    design = f.design(project)
    done = send(tidings, project, "--to", "person0@example.net", "--email-id", design.pk, "--marketing")
    assert done.code == 0, done.err
    batch = Campaign.objects.get(origin=CampaignOrigin.API)
    message = Message.objects.get(campaign=batch)
    assert done.out == f"batch {batch.pk}: send {message.pk} skipped (unsubscribed)\n"
    assert batch.status == CampaignStatus.SENT


def test_send_json(tidings: Run, project: Any, outbox: Path) -> None:
    import json

    done = send(tidings, project, "--to", "guest@example.net", "--subject", "Hi", *HTML, "--json")
    answer = json.loads(done.out)
    assert answer["status"] == "sending"
    assert answer["state"] == "queued"
    assert answer["batchId"] == Campaign.objects.get().pk


def test_the_same_idempotency_key_sends_once(tidings: Run, project: Any, outbox: Path) -> None:
    args = ("--to", "guest@example.net", "--subject", "Hi", "--html", "<p>Hi</p>", "--idempotency-key", "k-1")
    first = send(tidings, project, *args)
    second = send(tidings, project, *args)
    assert first.code == second.code == 0
    assert first.out == second.out
    assert first.out.startswith(f"batch {Campaign.objects.get().pk}: send ")
    assert second.err == "(sent before with this idempotency key: its answer)\n"
    assert Campaign.objects.count() == 1
    assert IdempotentRequest.objects.filter(key="k-1", endpoint="sending").count() == 1
    other = send(tidings, project, *args[:-4], "--html", "<p>Hello</p>", "--idempotency-key", "k-1")
    assert other.code == 1
    assert other.err_lines == [
        "tidings: this Idempotency-Key was used with another request body in the last 24 hours; "
        "use a new key for a new request"
    ]
    assert Campaign.objects.count() == 1


TO = ("--to", "a@example.net")
HTML = ("--html", "<p>Hi</p>")


@pytest.mark.parametrize(
    ("extra", "message", "code"),
    [
        (("--to", "not-an-address", *HTML), "tidings: --to: is not a valid email address", 1),
        ((*TO, "--template-file", "/nonexistent/t.html"), "tidings: no file at /nonexistent/t.html", 1),
        ((*TO, *HTML, "--var", "novalue"), "tidings: --var takes name=value", 1),
        ((*TO, *HTML, "--var", "=x"), "tidings: --var takes name=value", 1),
        ((*TO, "--html", "<p>{% if %}</p>"), "tidings: --html: line 1, column 7: missing expression", 1),
        ((*TO, "--email-id", "999999"), "tidings: --email-id: no email with id 999999", 1),
        ((*TO, *HTML, "--provider", "fax"), "tidings: --provider: must be one of: outbox, smtp", 1),
        ((*TO, *HTML, "--provider", "smtp"), "tidings: --provider: the project has no smtp connection", 1),
        ((*TO, *HTML, "--marketing"), "tidings: --to: a@example.net is not a contact", 1),
        (("--tag", "ghost", *HTML), "tidings: no tag named 'ghost' in acme-mail", 1),
        (("--tag-id", "999999", *HTML), "tidings: --tag-id: no tag with id 999999 in this project", 1),
        ((*TO, *HTML, "--idempotency-key", " "), "tidings: --idempotency-key: must be 1 to 255", 1),
        (TO, "tidings: one of the arguments --template-file --html --email-id is required", 2),
        ((*TO, *HTML, "--email-id", "1"), "tidings: argument --email-id: not allowed with", 2),
    ],
)
def test_send_refuses_bad_input_and_creates_nothing(
    tidings: Run, project: Any, news: Any, outbox: Path, extra: tuple[str, ...], message: str, code: int
) -> None:
    done = send(tidings, project, "--subject", "Hi", *extra)
    assert done.code == code
    assert len(done.err_lines) == 1, done.err
    assert done.err.startswith(message)
    assert not Campaign.objects.exists()
    assert not IdempotentRequest.objects.exists()


def test_send_with_several_problems_names_each(tidings: Run, project: Any, outbox: Path) -> None:
    done = tidings("send", "--project", project.slug, "--to", "x", "--from", "y", "--html", "<p>Hi</p>")
    assert done.code == 1
    assert [line.split(":")[1].strip() for line in done.err_lines] == ["--to", "--subject", "--from"]
    assert not Campaign.objects.exists()
