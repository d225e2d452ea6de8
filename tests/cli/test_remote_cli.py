"""`tidings` in remote mode (the API of a live test server, through the SDK, without Django), and the
commands written once against the API run in local mode (in this process, for --project)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.sending import factories as f
from tidings import cli, cli_output, cli_remote
from tidings.audience.models import Contact, ContactImport, ContactStatus, Tag
from tidings.audience.segments import segment_create
from tidings.campaigns.models import Campaign, CampaignOrigin, CampaignStatus
from tidings.core import services
from tidings.core.models import ApiKey, Project
from tidings.sending.models import Message
from tidings.sending.pipeline import run_campaign

REPO = Path(__file__).resolve().parents[2]
NOWHERE_DB = "postgres://nobody@127.0.0.1:1/none"


class Done:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    @property
    def err_lines(self) -> list[str]:
        """The command's own lines (the live server in this process may log to the same stderr)."""
        return [line for line in self.err.splitlines() if line.startswith("tidings:")]

    @property
    def rows(self) -> list[list[str]]:
        return [line.split("  ") for line in self.out.splitlines()]


Run = Callable[..., Done]


def invoke(capsys: pytest.CaptureFixture[str], args: list[str]) -> Done:
    capsys.readouterr()
    try:
        cli.main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return Done(code, captured.out, captured.err)


@pytest.fixture
def server(transactional_db: None, live_server: Any) -> str:
    return str(live_server.url)


@pytest.fixture
def secret(server: str, project: Project) -> str:
    return services.api_key_create(project=project, name="cli test").secret


@pytest.fixture
def no_django(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remote mode must never set Django up (this process has it for the live server)."""

    def refuse() -> None:
        raise AssertionError("remote mode set Django up")

    monkeypatch.setattr(cli, "setup_django", refuse)
    monkeypatch.setattr(cli_remote, "in_process", refuse)


@pytest.fixture
def remote(server: str, secret: str, capsys: pytest.CaptureFixture[str], no_django: None) -> Run:
    """``tidings --url SERVER --api-key KEY ARGS``."""

    def run(*args: Any) -> Done:
        return invoke(capsys, ["--url", server, "--api-key", secret, *(str(a) for a in args)])

    return run


@pytest.fixture
def bare(capsys: pytest.CaptureFixture[str]) -> Run:
    """``tidings ARGS``, nothing added: local mode unless the arguments or environment say otherwise."""

    def run(*args: Any) -> Done:
        return invoke(capsys, [str(a) for a in args])

    return run


@pytest.fixture
def outbox(project: Project, settings: Any, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path / "data"
    f.verified_domain(project)
    f.outbox_connection(project)


@pytest.fixture
def news(project: Project) -> Tag:
    """A tag "news" on three subscribed contacts and one who unsubscribed."""
    tag = f.tag(project, "news")
    people = f.contacts(project, 4, tag=tag)
    Contact.objects.filter(pk=people[0].pk).update(status=ContactStatus.UNSUBSCRIBED)
    return tag


@pytest.fixture
def immediate_tasks(settings: Any) -> None:
    """Imports run when queued: the live server has no worker beside it."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
            "QUEUES": settings.TASK_QUEUES,
        }
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


# -- contacts -------------------------------------------------------------------------------------------


def test_contacts_import_follows_the_import_to_its_end(
    remote: Run, server: str, project: Project, tmp_path: Path, immediate_tasks: None
) -> None:
    people = tmp_path / "people.csv"
    people.write_text("E-mail,First name\nann@example.net,Ann\nbob@example.net,Bob\nnot an address,X\n")
    done = remote("contacts", "import", people, "--map", "E-mail=email", "--tag", "imported")
    assert done.code == 0, done.err
    lines = done.out.splitlines()
    assert lines[0] == "imported people.csv: 2 created, 0 updated, 0 skipped, 1 rejected"
    imported = ContactImport.objects.get(project=project)
    assert (
        lines[1] == f"rejected rows, with their line and reason: {server}/api/v1/imports/{imported.pk}/report"
    )
    assert "people.csv [####################] 100% 3 rows" in done.err
    assert set(Contact.objects.filter(project=project).values_list("email", flat=True)) == {
        "ann@example.net",
        "bob@example.net",
    }
    assert Tag.objects.get(project=project, name="imported").contacts.count() == 2


def test_contacts_import_json_and_no_wait(
    remote: Run, project: Project, tmp_path: Path, immediate_tasks: None
) -> None:
    people = tmp_path / "people.csv"
    people.write_text("email\nann@example.net\n")
    summary = json.loads(remote("contacts", "import", people, "--json").out)
    assert {k: summary[k] for k in ("status", "rowsRead", "created", "rejected")} == {
        "status": "finished",
        "rowsRead": 1,
        "created": 1,
        "rejected": 0,
    }
    queued = remote("contacts", "import", people, "--no-wait")
    assert queued.code == 0, queued.err
    assert queued.out.startswith("import ")
    assert " of people.csv is " in queued.out


def test_contacts_export_to_stdout_and_to_a_file(
    remote: Run, project: Project, news: Tag, tmp_path: Path
) -> None:
    everyone = remote("contacts", "export")
    assert everyone.code == 0, everyone.err
    assert everyone.out.splitlines()[0].startswith("email")
    target = tmp_path / "news.csv"
    done = remote("contacts", "export", "--tag", "news", "-o", target)
    assert done.code == 0, done.err
    assert [line for line in done.err.splitlines() if line.startswith("exported")] == [
        f"exported 4 contacts to {target}"
    ]
    assert len(target.read_text().splitlines()) == 5
    missing = remote("contacts", "export", "--tag", "nope")
    assert (missing.code, missing.err_lines) == (1, ["tidings: no tag named 'nope'"])


def test_contacts_list_is_a_table_and_json(remote: Run, project: Project, news: Tag) -> None:
    done = remote("contacts", "list")
    assert done.code == 0, done.err
    header, *rows = done.out.splitlines()
    assert header.split() == ["id", "email", "name", "status", "tags", "created"]
    assert len(rows) == 4
    assert all("news" in row for row in rows)
    subscribed = json.loads(remote("contacts", "list", "--status", "subscribed", "--json").out)
    assert len(subscribed) == 3
    assert {c["status"] for c in subscribed} == {"subscribed"}
    assert {"id", "email", "tags", "createdAt"} <= set(subscribed[0])
    assert len(json.loads(remote("contacts", "list", "--limit", "2", "--json").out)) == 2
    assert (
        json.loads(remote("contacts", "list", "--tag", "news", "--json").out)[0]["tags"][0]["name"] == "news"
    )


# -- tags and segments ----------------------------------------------------------------------------------


def test_tags_create_and_list(remote: Run, project: Project, news: Tag) -> None:
    done = remote("tags", "create", "vip", "--description", "Our best customers")
    assert done.code == 0, done.err
    vip = Tag.objects.get(project=project, name="vip")
    assert done.out.splitlines()[0] == f"created tag vip (id {vip.pk})"
    listed = remote("tags", "list")
    assert listed.out.splitlines()[0].split() == ["id", "name", "contacts", "description"]
    assert any(line.split()[:3] == [str(news.pk), "news", "4"] for line in listed.out.splitlines())
    tags = json.loads(remote("tags", "list", "--json").out)
    assert {t["name"] for t in tags} == {"news", "vip"}
    again = remote("tags", "create", "vip")
    assert again.code == 1
    assert len(again.err_lines) == 1


def test_segments_list_and_count(remote: Run, project: Project, news: Tag) -> None:
    segment = segment_create(project=project, name="Everyone", filters={})
    listed = remote("segments", "list")
    assert listed.code == 0, listed.err
    assert listed.out.splitlines()[1].split()[:2] == [str(segment.pk), "Everyone"]
    assert remote("segments", "count", segment.pk).out == "4\n"
    assert json.loads(remote("segments", "count", segment.pk, "--json").out) == {"id": segment.pk, "count": 4}
    missing = remote("segments", "count", 999_999)
    assert (missing.code, missing.err_lines) == (1, ["tidings: no segment with id 999999"])


# -- drafts ---------------------------------------------------------------------------------------------


def test_drafts_new_for_a_tag_prints_the_subject_and_a_text_preview(
    remote: Run, project: Project, news: Tag
) -> None:
    f.tag(project, "vip")
    done = remote("drafts", "new", "Announce our spring sale: 20% off until May", "--persona", "tag:vip")
    assert done.code == 0, done.err
    first, subject, *rest = done.out.splitlines()
    assert first.startswith("draft ")
    assert "for " in first
    assert subject.startswith("Subject: ")
    assert len(subject) > len("Subject: ")
    body = [line for line in rest if line and not line.startswith("Preheader: ")]
    assert body, done.out
    answer = json.loads(remote("drafts", "new", "A welcome email", "--json").out)
    assert answer["draft"]["designId"]
    assert answer["preview"]["subject"]
    assert not answer["preview"]["text"].startswith("<")


@pytest.mark.parametrize(
    ("persona", "message", "code"),
    [
        ("tag:nope", "tidings: no tag named 'nope'", 1),
        (
            "segment:abc",
            "tidings: --persona takes tag:NAME, segment:ID, contact:ID or none, got 'segment:abc'",
            2,
        ),
        ("segment:999999", "tidings: ", 1),
    ],
)
def test_drafts_new_refuses_an_unknown_persona(remote: Run, persona: str, message: str, code: int) -> None:
    done = remote("drafts", "new", "Hello", "--persona", persona)
    assert done.code == code
    assert len(done.err_lines) == 1
    assert done.err_lines[0].startswith(message)


# -- campaigns and sending ------------------------------------------------------------------------------


def create(remote: Run, project: Project, *extra: Any) -> tuple[Done, Campaign | None]:
    design = f.design(project)
    done = remote(
        "campaigns", "create", "--name", "December news", "--design-id", design.pk,
        "--from", "news@example.com", "--from-name", "Acme News", *(extra or ("--tag", "news")),
    )  # fmt: skip
    match = re.search(r"\(id (\d+)\)", done.out)
    return done, Campaign.objects.get(pk=int(match.group(1))) if match else None


def test_campaigns_create_send_status_list(remote: Run, project: Project, news: Tag, outbox: None) -> None:
    done, campaign = create(remote, project)
    assert done.code == 0, done.err
    assert campaign is not None
    lines = [line for line in done.out.splitlines() if not line.startswith("note: ")]
    assert lines == [
        f"created campaign December news (id {campaign.pk})",
        "eligible recipients: 3 (excluded: 1 unsubscribed)",
        f"ready: send it with 'tidings campaigns send {campaign.pk}'",
    ]
    sent = remote("campaigns", "send", campaign.pk)
    assert (sent.code, sent.out) == (
        0,
        f"campaign {campaign.pk} is sending: 3 queued, 1 skipped (1 unsubscribed)\n",
    )
    again = remote("campaigns", "send", campaign.pk)
    assert again.out == f"campaign {campaign.pk} is already sending\n"
    status = remote("campaigns", "status", campaign.pk)
    assert status.out.splitlines() == [
        f"campaign {campaign.pk} (December news): sending",
        "4 messages: 0 sent, 0 failed, 1 skipped, 0 cancelled, 3 queued (skipped: 1 unsubscribed)",
        "0.0 msg/s, 25.0% done, ETA -:--:--",
    ]
    listed = remote("campaigns", "list")
    assert [line.split() for line in listed.out.splitlines()] == [
        ["id", "name", "status", "sent/total"],
        [str(campaign.pk), "December", "news", "sending", "0/4"],
    ]
    rows = json.loads(remote("campaigns", "list", "--json").out)
    assert rows == [{"id": campaign.pk, "name": "December news", "status": "sending", "sent": 0, "total": 4}]
    answer = json.loads(remote("campaigns", "status", campaign.pk, "--json").out)
    assert (answer["id"], answer["status"], answer["progress"]["queued"]) == (campaign.pk, "sending", 3)


def test_campaigns_schedule_pause_resume_cancel(
    remote: Run, project: Project, news: Tag, outbox: None
) -> None:
    _, campaign = create(remote, project)
    assert campaign is not None
    scheduled = remote(
        "campaigns", "schedule", campaign.pk, "--at", "2030-01-02 09:30", "--timezone", "Europe/Berlin"
    )
    assert (scheduled.code, scheduled.out) == (
        0,
        f"campaign {campaign.pk} is scheduled for 2030-01-02 09:30 Europe/Berlin (2030-01-02 08:30 UTC)\n",
    )
    assert remote("campaigns", "send", campaign.pk).code == 0
    paused = remote("campaigns", "pause", campaign.pk)
    assert (paused.code, paused.out) == (0, f"campaign {campaign.pk} is paused: 0 of 4 sent, 3 waiting\n")
    resumed = remote("campaigns", "resume", campaign.pk)
    assert (resumed.code, resumed.out) == (0, f"campaign {campaign.pk} is sending: 3 left to send\n")
    cancelled = remote("campaigns", "cancel", campaign.pk)
    assert (cancelled.code, cancelled.out) == (
        0,
        f"campaign {campaign.pk} is cancelled: 3 messages left unsent\n",
    )
    again = remote("campaigns", "pause", campaign.pk)
    assert again.code == 1
    # (The live server, in this process, may log its 409 onto the captured stderr: the last line.)
    assert again.err.splitlines()[-1] == (
        "tidings: only a sending campaign can be paused; this one is cancelled"
    )


def test_campaigns_status_watch_draws_a_progress_bar_until_sent(
    remote: Run, project: Project, news: Tag, outbox: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, campaign = create(remote, project)
    assert campaign is not None
    assert remote("campaigns", "send", campaign.pk).code == 0
    sleeps: list[float] = []

    def send_meanwhile(seconds: float) -> None:
        sleeps.append(seconds)
        run_campaign(Campaign.objects.get(pk=campaign.pk))

    monkeypatch.setattr(cli_remote.time, "sleep", send_meanwhile)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    done = remote("campaigns", "status", campaign.pk, "--watch")
    assert done.code == 0, done.err
    assert sleeps == [cli_remote.WATCH_EVERY]
    bar, *final = done.out.split("\n")
    frames = bar.split("\r")[1:]
    assert frames[0].startswith("[#####...............]  25.0%  0/4 sent  0 failed  1 skipped")
    assert frames[1].startswith("[####################] 100.0%  3/4 sent")
    assert final[0] == f"campaign {campaign.pk} (December news): sent"


def test_campaigns_send_refusals_are_one_line_each(
    remote: Run, make_project: Callable[..., Project], capsys: pytest.CaptureFixture[str], server: str
) -> None:
    bare_project = make_project("No Address")  # no postal address, no provider connection
    f.tag(bare_project, "news")
    key = services.api_key_create(project=bare_project, name="cli").secret
    design = f.design(bare_project)
    base = ["--url", server, "--api-key", key]
    created = invoke(
        capsys,
        [*base, "campaigns", "create", "--name", "N", "--design-id", str(design.pk), "--from",
         "news@example.com", "--tag", "news"],
    )  # fmt: skip
    assert created.code == 0, created.err
    assert "problem: no provider connection" in created.out
    campaign = Campaign.objects.get(project=bare_project)
    done = invoke(capsys, [*base, "campaigns", "send", str(campaign.pk)])
    assert done.code == 1
    assert done.err_lines == [
        f"tidings: campaign {campaign.pk} cannot start: "
        "no provider connection: add one under Settings → Email providers",
        f"tidings: campaign {campaign.pk} cannot start: marketing email must carry the sender's postal "
        "address: set it in Settings → Project",
    ]
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_campaigns_create_names_the_flags_of_bad_input(remote: Run, project: Project, news: Tag) -> None:
    done, _ = create(remote, project, "--tag", "news", "--from", "not an address")
    assert done.code == 1
    assert len(done.err_lines) == 1
    assert done.err_lines[0].startswith("tidings: --from: is not a valid email address")
    done, _ = create(remote, project, "--tag-id", "999999")
    assert done.err_lines == ["tidings: --tag-id: no tag with id 999999 in this project"]
    assert not Campaign.objects.filter(project=project).exists()


def test_send_one_email(remote: Run, project: Project, outbox: None) -> None:
    args = ("send", "--to", "guest@example.net", "--from", "news@example.com", "--subject", "Hi {{ name }}")
    done = remote(*args, "--html", "<p>Hello {{ name }}</p>", "--var", "name=Guest")
    assert done.code == 0, done.err
    batch = Campaign.objects.get(origin=CampaignOrigin.API)
    message = Message.objects.get(campaign=batch)
    assert done.out == f"batch {batch.pk}: send {message.pk} queued\n"
    assert batch.variables == {"name": "Guest"}
    answer = json.loads(remote(*args, "--html", "<p>Hi</p>", "--json").out)
    assert (answer["status"], answer["state"]) == ("sending", "queued")
    refused = remote("send", "--to", "guest@example.net", "--from", "not an address", "--html", "<p>x</p>")
    assert refused.code == 1
    assert len(refused.err_lines) == 2  # one line per reason, each naming its flag
    assert refused.err_lines[0] == "tidings: --subject: is required with a template"
    assert refused.err_lines[1].startswith("tidings: --from: is not a valid email address")


def test_send_with_an_idempotency_key_sends_once(remote: Run, project: Project, outbox: None) -> None:
    args = ("send", "--to", "guest@example.net", "--from", "news@example.com", "--subject", "Hi")
    first = remote(*args, "--html", "<p>Hi</p>", "--idempotency-key", "k-1")
    second = remote(*args, "--html", "<p>Hi</p>", "--idempotency-key", "k-1")
    assert first.code == second.code == 0
    assert first.out == second.out
    assert Campaign.objects.filter(origin=CampaignOrigin.API).count() == 1


# -- domains --------------------------------------------------------------------------------------------


def test_domains_verify(remote: Run, project: Project, dns_server: Any, settings: Any) -> None:
    from tests.sending.dns_server import txt
    from tidings.sending.domains import domain_create, domain_records

    settings.DNS_RESOLVER = f"{dns_server.host}:{dns_server.port}"
    settings.SPF_INCLUDE = ""
    domain = domain_create(project=project, domain="mail.example.org")
    unverified = remote("domains", "verify", "mail.example.org")
    assert unverified.code == 1
    assert "missing" in unverified.out
    assert unverified.err_lines == ["tidings: mail.example.org is not verified yet"]
    for record in domain_records(domain):
        dns_server.set(
            record.name, record.type, [txt(record.value) if record.type == "TXT" else record.value]
        )
    verified = remote("domains", "verify", "mail.example.org")
    assert verified.code == 0, verified.err
    assert verified.out.strip().endswith("mail.example.org is verified")
    missing = remote("domains", "verify", "nowhere.example")
    assert (missing.code, missing.err_lines) == (1, ["tidings: no sending domain nowhere.example"])


# -- exit codes -----------------------------------------------------------------------------------------


def test_a_refused_key_is_exit_2(server: str, bare: Run, no_django: None) -> None:
    done = bare("--url", server, "--api-key", "tdk_not_a_key", "tags", "list")
    assert done.code == 2
    assert len(done.err_lines) == 1
    assert done.err_lines[0].startswith(f"tidings: {server} refused the API key: ")


def test_an_unknown_id_is_exit_1(remote: Run) -> None:
    done = remote("campaigns", "status", 999_999)
    assert (done.code, done.err_lines) == (1, ["tidings: no campaign with id 999999"])


def test_an_unreachable_server_is_exit_3(bare: Run, no_django: None) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = bare("--url", url, "--api-key", "tdk_x", "contacts", "list")
    assert done.code == 3
    assert len(done.err_lines) == 1
    assert done.err_lines[0].startswith(f"tidings: cannot reach {url}: ")


def test_a_url_that_is_not_http_is_exit_2(bare: Run, no_django: None) -> None:
    done = bare("--url", "mail.example.com", "--api-key", "tdk_x", "tags", "list")
    assert done.code == 2
    assert done.err_lines == ["tidings: base_url must start with http:// or https://, not 'mail.example.com'"]


def test_project_in_remote_mode_is_exit_2(remote: Run, project: Project) -> None:
    done = remote("contacts", "list", "--project", project.slug)
    assert done.code == 2
    assert done.err_lines == [
        "tidings: --project is for local mode; remote mode (--url/--api-key) acts for the API key's project: "
        "leave --project out"
    ]


def test_a_local_only_command_refuses_remote_flags(bare: Run, no_django: None) -> None:
    done = bare("--url", "https://mail.example.com", "migrate")
    assert done.code == 2
    assert done.err_lines == [
        "tidings: 'migrate' works on this machine's database only: leave out --url, --api-key and --profile"
    ]


def test_local_mode_needs_a_project(bare: Run, no_django: None) -> None:
    done = bare("tags", "list")
    assert done.code == 2
    assert done.err_lines == [
        "tidings: --project is required (or work remotely: --url and --api-key, or --profile)"
    ]


def test_only_a_url_or_only_a_key_is_exit_2(
    bare: Run, no_django: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = bare("--url", "https://mail.example.com", "tags", "list")
    assert (done.code, done.err_lines) == (
        2,
        ["tidings: remote mode needs an API key: --api-key, TIDINGS_API_KEY or a profile's api_key"],
    )
    monkeypatch.setenv("TIDINGS_API_KEY", "tdk_x")
    done = bare("tags", "list")
    assert done.code == 2
    assert done.err_lines[0].startswith("tidings: remote mode needs the server's address")


# -- the config file ------------------------------------------------------------------------------------


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("TIDINGS_CONFIG", str(path))
    return path


def test_a_profile_of_the_config_file(
    remote: Run, server: str, secret: str, bare: Run, config: Path, news: Tag
) -> None:
    write_config(config, f'[profiles.prod]\nurl = "{server}"\napi_key = "{secret}"\n')
    done = bare("--profile", "prod", "tags", "list", "--json")
    assert done.code == 0, done.err
    assert [t["name"] for t in json.loads(done.out)] == ["news"]
    write_config(
        config, f'default_profile = "prod"\n[profiles.prod]\nurl = "{server}"\napi_key = "{secret}"\n'
    )
    assert bare("tags", "list").code == 0


def test_precedence_flags_then_a_named_profile_then_env_then_the_default_profile(
    server: str, secret: str, bare: Run, config: Path, monkeypatch: pytest.MonkeyPatch, no_django: None
) -> None:
    write_config(
        config,
        'default_profile = "stale"\n'
        f'[profiles.good]\nurl = "{server}"\napi_key = "{secret}"\n'
        f'[profiles.stale]\nurl = "{server}"\napi_key = "tdk_revoked"\n',
    )
    assert bare("tags", "list").code == 2  # the default profile's key is refused
    assert bare("--api-key", secret, "tags", "list").code == 0  # a flag beats the profile
    assert bare("--profile", "good", "tags", "list").code == 0
    monkeypatch.setenv("TIDINGS_API_KEY", secret)
    assert bare("tags", "list").code == 0  # the environment beats the default profile
    monkeypatch.setenv("TIDINGS_API_KEY", "tdk_wrong")
    assert bare("--profile", "good", "tags", "list").code == 0  # a profile named on the command line beats it
    assert bare("--profile", "stale", "--api-key", secret, "tags", "list").code == 0  # and a flag beats both
    monkeypatch.delenv("TIDINGS_API_KEY")
    monkeypatch.setenv("TIDINGS_PROFILE", "good")
    assert bare("tags", "list").code == 0  # TIDINGS_PROFILE beats default_profile


@pytest.mark.parametrize(
    ("text", "mode", "message"),
    [
        ("[profiles.prod\nurl = 1", 0o600, "is not valid TOML: "),
        ("profiles = 3\n", 0o600, ": 'profiles' must hold tables like [profiles.NAME]"),
        ("[profiles.prod]\nurl = 3\n", 0o600, ": profiles.prod.url must be a string"),
        (
            '[profiles.prod]\nurl = "https://x.example"\napi_key = "tdk_x"\n',
            0o644,
            "holds API keys but other",
        ),
        ('[profiles.other]\nurl = "https://x.example"\n', 0o600, "no profile named 'prod' in "),
    ],
)
def test_a_bad_config_file_is_one_line_and_exit_2(
    bare: Run, config: Path, no_django: None, text: str, mode: int, message: str
) -> None:
    write_config(config, text, mode)
    done = bare("--profile", "prod", "tags", "list")
    assert done.code == 2
    assert len(done.err_lines) == 1
    assert message in done.err_lines[0]


def test_a_profile_without_a_config_file_is_exit_2(bare: Run, config: Path, no_django: None) -> None:
    done = bare("--profile", "prod", "tags", "list")
    assert done.code == 2
    assert done.err_lines == [f"tidings: no profile named 'prod' in {config} (there is no such file)"]


def test_an_unreadable_config_file_is_exit_2(bare: Run, config: Path, no_django: None) -> None:
    config.mkdir()
    done = bare("tags", "list")
    assert done.code == 2
    assert done.err_lines[0].startswith(f"tidings: cannot read {config}: ")


def test_local_only_commands_ignore_the_config_file(bare: Run, config: Path, db: None) -> None:
    write_config(config, "not toml at all [")
    assert bare("project", "list", "--json").code == 0


# -- no database in remote mode -------------------------------------------------------------------------


def test_remote_mode_runs_without_django_or_a_database(
    server: str, secret: str, news: Tag, tmp_path: Path
) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("TIDINGS_", "DJANGO_"))}
    environ.update(
        {
            "TIDINGS_DATABASE_URL": NOWHERE_DB,  # a local command would fail here
            "TIDINGS_DATA_DIR": str(tmp_path / "nothing"),
            "TIDINGS_CONFIG": str(tmp_path / "none.toml"),
            "TIDINGS_URL": server,
            "TIDINGS_API_KEY": secret,
        }
    )
    script = (
        "import sys\nfrom tidings.cli import main\ncode = 0\ntry:\n    main(sys.argv[1:])\n"
        "except SystemExit as exc:\n    code = exc.code\n"
        "print('django loaded' if 'django.db' in sys.modules else 'no django', file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "contacts", "list", "--json"],
        cwd=REPO, env=environ, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == 4
    assert done.stderr.strip().endswith("no django")
    local = subprocess.run(
        [sys.executable, "-m", "tidings", "tags", "list", "--project", "acme-mail"],
        cwd=REPO, env={**environ, "TIDINGS_URL": "", "TIDINGS_API_KEY": ""},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert local.returncode == 3, local.stderr  # the same database settings do fail a local command


# -- the same commands in local mode, in this process ---------------------------------------------------


@pytest.mark.django_db
def test_local_contacts_list_tags_segments(bare: Run, project: Project, news: Tag) -> None:
    slug = ("--project", project.slug)
    listed = bare("contacts", "list", *slug)
    assert listed.code == 0, listed.err
    assert len(listed.out.splitlines()) == 5
    created = bare("tags", "create", "vip", *slug)
    assert created.code == 0, created.err
    assert Tag.objects.filter(project=project, name="vip").exists()
    assert {t["name"] for t in json.loads(bare("tags", "list", *slug, "--json").out)} == {"news", "vip"}
    segment = segment_create(project=project, name="Everyone", filters={})
    assert bare("segments", "count", segment.pk, *slug).out == "4\n"
    missing = bare("segments", "count", 999_999, *slug)
    assert (missing.code, missing.err_lines) == (1, [f"tidings: no segment with id 999999 in {project.slug}"])
    assert not ApiKey.objects.exists()  # in-process calls store no key


@pytest.mark.django_db
def test_local_drafts_new(bare: Run, project: Project, news: Tag) -> None:
    done = bare(
        "drafts", "new", "Announce our spring sale", "--persona", "tag:news", "--project", project.slug
    )
    assert done.code == 0, done.err
    assert done.out.splitlines()[1].startswith("Subject: ")
    assert not ApiKey.objects.exists()


@pytest.mark.django_db
def test_local_mode_names_an_unknown_project(bare: Run) -> None:
    done = bare("tags", "list", "--project", "nope")
    assert (done.code, done.err_lines) == (1, ["tidings: no project with slug 'nope'"])


@pytest.mark.django_db
def test_in_process_calls_cannot_make_api_keys(project: Project) -> None:
    from tidings.client import PermissionDeniedError

    with cli_remote.in_process(project.slug) as api, pytest.raises(PermissionDeniedError):
        api.api_keys.create(name="sneaky")
    assert not ApiKey.objects.exists()


@pytest.mark.django_db
def test_local_contacts_import_no_wait_queues_it(
    bare: Run, project: Project, tmp_path: Path, immediate_tasks: None
) -> None:
    people = tmp_path / "people.csv"
    people.write_text("email\nann@example.net\n")
    done = bare("contacts", "import", people, "--project", project.slug, "--no-wait")
    assert done.code == 0, done.err
    assert done.out.startswith("import ")
    assert " of people.csv is " in done.out


# -- output ---------------------------------------------------------------------------------------------


def test_tables_align_columns_and_cut_long_cells(capsys: pytest.CaptureFixture[str]) -> None:
    cli_output.print_table(["id", "name"], [[1, "x" * 100], [22, "two\nlines"], [3, None]])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "id  name"
    assert lines[1] == "1   " + "x" * (cli_output.MAX_CELL - 1) + "…"
    assert lines[2] == "22  two lines"
    assert lines[3] == "3"


def test_help_of_the_new_commands(bare: Run) -> None:
    for command in (
        "contacts list",
        "tags list",
        "tags create",
        "segments list",
        "segments count",
        "drafts new",
    ):
        done = bare(*command.split(), "--help")
        assert done.code == 0
        assert done.out.startswith("usage: tidings " + command)
