"""Campaigns in the UI: the list, the editor with its live counts and review, the campaign's page
with its live progress, and every action; roles and tenancy."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.sending import factories as f
from tidings.audience import services as audience
from tidings.audience.models import Contact, ContactStatus
from tidings.campaigns import services
from tidings.campaigns.models import Campaign, CampaignStatus
from tidings.core.models import Project, Role
from tidings.sending.models import Message, MessageState
from tidings.sending.pipeline import finish_if_done, run_campaign
from tidings.sending.services import connection_create

pytestmark = pytest.mark.django_db


def _body(response: Any) -> str:
    return html.unescape(response.content.decode())


def _text(response: Any) -> str:
    """The page's words without tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", _body(response)).split())


def _ready(project: Project, n: int = 3) -> dict[str, Any]:
    """A project that can send: the outbox as default, a design, and a tag with ``n`` subscribers."""
    connection = f.outbox_connection(project)
    design = f.design(project)
    tag = f.tag(project, "news")
    people = f.contacts(project, n, tag=tag)
    return {"connection": connection, "design": design, "tag": tag, "people": people}


def _form(setup: dict[str, Any], **values: Any) -> dict[str, Any]:
    form = {
        "name": "December news",
        "design_id": setup["design"].pk,
        "subject": "",
        "preheader": "",
        "recipients": f"tag:{setup['tag'].pk}",
        "from_email": "news@example.com",
        "from_name": "Acme News",
        "reply_to": "",
        "connection_id": setup["connection"].pk,
        "topic_id": "",
        "track_opens": "on",
        "track_clicks": "on",
        "when": "now",
        "scheduled_at": "",
        "timezone": "UTC",
        "action": "save",
    }
    form.update(values)
    return form


def _relay(project: Project, **fields: Any) -> Any:
    """An SMTP connection (nothing listens: these tests never send through it)."""
    return connection_create(
        project=project,
        name="Relay",
        kind="smtp",
        options={"host": "127.0.0.1", "port": 2525, "security": "none"},
        **fields,
    )


def _campaign(project: Project, setup: dict[str, Any], **values: Any) -> Campaign:
    return f.campaign(project, design_obj=setup["design"], tag_obj=setup["tag"], **values)


def _started(project: Project, n: int = 3) -> Campaign:
    campaign = _campaign(project, _ready(project, n))
    services.campaign_start(campaign=campaign)
    campaign.refresh_from_db()
    return campaign


# -- the list ------------------------------------------------------------------------------------


def test_the_list_shows_status_recipients_and_progress(project: Project, owner_client: Client) -> None:
    setup = _ready(project, 4)
    draft = _campaign(project, setup, name="Spring draft")
    sending = _campaign(project, setup, name="Winter sale")
    services.campaign_start(campaign=sending)
    first = Message.objects.filter(campaign=sending).order_by("pk").first()
    Message.objects.filter(pk=first.pk).update(state=MessageState.SENT, sent_at=timezone.now())

    body = _body(owner_client.get("/campaigns/"))

    assert "Spring draft" in body
    assert "Winter sale" in body
    assert "Tag: news" in body
    assert "1 / 4 sent" in body
    assert f'id="campaign-{draft.pk}" data-status="draft"' in body
    assert f'id="campaign-{sending.pk}" data-status="sending"' in body
    assert 'href="/campaigns/new/"' in body


def test_the_list_filters_by_status_and_shows_the_archive(project: Project, owner_client: Client) -> None:
    setup = _ready(project)
    _campaign(project, setup, name="Still a draft")
    old = _campaign(project, setup, name="Old news")
    services.campaign_archive(campaign=old)
    sending = _campaign(project, setup, name="Going out")
    services.campaign_start(campaign=sending)

    drafts = _body(owner_client.get("/campaigns/?status=draft"))
    current = _body(owner_client.get("/campaigns/"))
    archived = _body(owner_client.get("/campaigns/?archived=1"))
    none = _body(owner_client.get("/campaigns/?status=sent"))

    assert "Still a draft" in drafts
    assert "Going out" not in drafts
    assert "Old news" not in drafts
    assert "Old news" not in current
    assert "Going out" in current
    assert "Old news" in archived
    assert "Still a draft" not in archived
    assert "No campaigns are sent." in none


def test_viewers_see_the_list_without_the_new_button(
    project: Project, member_client: Callable[..., Client]
) -> None:
    viewer = member_client(project, Role.VIEWER)
    _campaign(project, _ready(project), name="Read only")

    body = _body(viewer.get("/campaigns/"))

    assert "Read only" in body
    assert 'href="/campaigns/new/"' not in body


def test_the_nav_marks_campaigns_on_its_sub_pages(project: Project, owner_client: Client) -> None:
    campaign = _campaign(project, _ready(project))

    for url in (
        "/campaigns/",
        "/campaigns/new/",
        f"/campaigns/{campaign.pk}/",
        f"/campaigns/{campaign.pk}/edit/",
    ):
        body = owner_client.get(url).content.decode()
        assert '<a href="/campaigns/" aria-current="page">Campaigns</a>' in body, url


# -- the editor -----------------------------------------------------------------------------------


def test_the_new_campaign_form_has_the_steps_in_order_and_the_default_connection(
    project: Project, owner_client: Client
) -> None:
    setup = _ready(project)
    _relay(project, is_default=False)

    body = _body(owner_client.get("/campaigns/new/"))

    steps = ("email", "recipients", "sender", "schedule", "review")
    order = [body.index(f'id="step-{step}"') for step in steps]
    assert order == sorted(order)
    assert f'<option value="{setup["connection"].pk}" selected>Outbox (default)</option>' in body
    assert f'<option value="tag:{setup["tag"].pk}">news</option>' in body
    assert '<optgroup label="Tags">' in body
    assert '<option value="Europe/Berlin">Europe/Berlin</option>' in body


def test_a_valid_form_saves_a_draft(project: Project, owner_client: Client) -> None:
    setup = _ready(project)

    response = owner_client.post("/campaigns/new/", _form(setup, subject="Our news"), follow=True)

    campaign = Campaign.objects.get(project=project)
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.design_id == setup["design"].pk
    assert campaign.recipient_type == "tag"
    assert campaign.recipient_id == setup["tag"].pk
    assert campaign.from_email == "news@example.com"
    assert campaign.subject == "Our news"
    assert campaign.connection_id == setup["connection"].pk
    assert response.redirect_chain[-1][0] == f"/campaigns/{campaign.pk}/edit/"
    body = _body(response)
    assert "“December news” was saved as a draft." in body
    assert "No problems found: ready to send to 3 recipients." in body


def test_invalid_input_is_shown_on_the_fields(
    project: Project, other_project: Project, owner_client: Client
) -> None:
    setup = _ready(project)
    foreign = f.design(other_project)

    response = owner_client.post(
        "/campaigns/new/", _form(setup, name="", from_email="me@gmail.com", design_id=foreign.pk)
    )

    assert response.status_code == 422
    body = _body(response)
    assert 'id="id_name-error">Is required<' in body
    assert (
        'id="id_from_email-error">gmail.com is a free-mail domain: mail sent from it fails its DMARC checks'
        in body
    )
    assert f'id="id_design_id-error">No email with id {foreign.pk} in this project<' in body
    assert "Some fields need fixing first" in body
    assert not Campaign.objects.exists()


def test_another_projects_tag_is_refused(
    project: Project, other_project: Project, owner_client: Client
) -> None:
    setup = _ready(project)
    theirs = f.tag(other_project, "theirs")

    response = owner_client.post("/campaigns/new/", _form(setup, recipients=f"tag:{theirs.pk}"))

    assert response.status_code == 422
    assert f'id="id_recipients-error">No tag with id {theirs.pk} in this project<' in _body(response)
    assert not Campaign.objects.exists()


def test_editing_changes_the_draft(project: Project, owner_client: Client) -> None:
    setup = _ready(project)
    campaign = _campaign(project, setup)

    page = _body(owner_client.get(f"/campaigns/{campaign.pk}/edit/"))
    response = owner_client.post(f"/campaigns/{campaign.pk}/edit/", _form(setup, name="January news"))

    assert 'value="December news"' in page
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "January news"


def test_a_sending_campaign_cannot_be_edited(project: Project, owner_client: Client) -> None:
    campaign = _started(project)

    response = owner_client.get(f"/campaigns/{campaign.pk}/edit/", follow=True)

    assert "A sending campaign cannot be changed; duplicate it to send it again." in _body(response)


# -- the live recipients count and review ---------------------------------------------------------


def test_the_recipients_count_shows_eligible_and_excluded_by_reason(
    project: Project, owner_client: Client
) -> None:
    setup = _ready(project, 3)
    tag = setup["tag"]
    f.contacts(project, 2, tag=tag, status=ContactStatus.UNSUBSCRIBED, prefix="gone")
    f.contacts(project, 1, tag=tag, status=ContactStatus.BOUNCED, prefix="bounce")

    body = _body(owner_client.get(f"/campaigns/recipients/?recipients=tag:{tag.pk}&topic_id="))

    assert '<strong class="figure-inline" id="eligible-count">3</strong> eligible recipients now' in body
    assert '<span id="excluded-count">3</span> excluded' in body
    assert "<li>Unsubscribed: 2</li>" in body
    assert "<li>Bounced: 1</li>" in body


def test_the_recipients_count_honours_the_topic(project: Project, owner_client: Client) -> None:
    setup = _ready(project, 3)
    topic = audience.topic_create(project=project, name="Product news")
    audience.topic_set_subscription(topic=topic, contact=setup["people"][0], subscribed=False)

    body = _body(
        owner_client.get(f"/campaigns/recipients/?recipients=tag:{setup['tag'].pk}&topic_id={topic.pk}")
    )

    assert 'id="eligible-count">2</strong>' in body
    assert "<li>Opted out of the topic: 1</li>" in body


def test_the_recipients_count_of_a_segment_and_of_nothing(project: Project, owner_client: Client) -> None:
    _ready(project, 3)
    from tidings.audience.segments import segment_create

    everyone = segment_create(project=project, name="Everyone", filters={})

    counted = _body(owner_client.get(f"/campaigns/recipients/?recipients=audience:{everyone.pk}"))
    empty = _body(owner_client.get("/campaigns/recipients/?recipients="))

    assert 'id="eligible-count">3</strong>' in counted
    assert "Choose an audience or a tag to see who would receive it." in empty


def test_the_recipients_count_does_not_count_another_projects_tag(
    project: Project, other_project: Project, owner_client: Client
) -> None:
    theirs = f.tag(other_project, "theirs")
    f.contacts(other_project, 2, tag=theirs)

    body = _body(owner_client.get(f"/campaigns/recipients/?recipients=tag:{theirs.pk}"))

    assert "That audience, tag or topic no longer exists." in body
    assert "eligible-count" not in body


def test_the_live_review_checks_the_form_without_saving_it(project: Project, owner_client: Client) -> None:
    setup = _ready(project)

    ready = _body(owner_client.post("/campaigns/check/", _form(setup)))
    missing = _body(owner_client.post("/campaigns/check/", _form(setup, from_email="", design_id="")))
    invalid = _body(owner_client.post("/campaigns/check/", _form(setup, name="")))
    later = _body(owner_client.post("/campaigns/check/", _form(setup, when="later")))

    assert "No problems found: ready to send to 3 recipients." in ready
    assert "Outbox is an outbox: it delivers nowhere" in ready
    assert 'name="action" value="send">Send now</button>' in ready
    assert '<li class="message message-error">The from address is missing.</li>' in missing
    assert '<li class="message message-error">No email is chosen.</li>' in missing
    assert 'value="send" disabled>Send now' in missing
    assert "Name: Is required" in invalid
    assert 'name="action" value="schedule">Schedule</button>' in later
    assert not Campaign.objects.exists()


def test_preflight_lists_each_problem_on_its_own(
    make_project: Callable[..., Project], member_client: Callable[..., Client]
) -> None:
    bare = make_project("No Address Ltd")  # no postal address
    client = member_client(bare, Role.OWNER)
    _relay(bare, is_default=True)  # an SMTP relay: the from domain must be verified
    news = f.tag(bare)
    f.contacts(bare, 2, tag=news)
    campaign = f.campaign(bare, design_obj=f.design(bare), tag_obj=news)

    body = _body(client.get(f"/campaigns/{campaign.pk}/"))

    problems = [
        "The sending domain example.com is not verified: add it under Settings → Domains and verify its "
        "DNS records.",
        "Marketing email must carry the sender's postal address: set it in Settings → Project.",
    ]
    for problem in problems:
        assert f'<li class="message message-error">{problem}</li>' in body
    assert body.count('<li class="message message-error">') == len(problems)
    assert "It cannot be sent yet:" in body
    sent = client.post(f"/campaigns/{campaign.pk}/send/", follow=True)
    assert "It cannot start yet. Fix the problems listed under Review first." in _body(sent)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


# -- sending and its progress ----------------------------------------------------------------


def test_send_now_from_the_editor_then_the_page_shows_it_sent(project: Project, owner_client: Client) -> None:
    setup = _ready(project, 3)
    f.contacts(project, 1, tag=setup["tag"], status=ContactStatus.UNSUBSCRIBED, prefix="gone")

    response = owner_client.post("/campaigns/new/", _form(setup, action="send"), follow=True)

    campaign = Campaign.objects.get(project=project)
    assert campaign.status == CampaignStatus.SENDING
    assert response.redirect_chain[-1][0] == f"/campaigns/{campaign.pk}/"
    body = _body(response)
    assert "“December news” is sending." in body
    assert f'hx-get="/campaigns/{campaign.pk}/progress/" hx-trigger="every 1s"' in body
    assert 'id="count-queued">3<' in body
    assert "Pause" in body

    campaign.refresh_from_db()
    run_campaign(campaign)

    done = _body(owner_client.get(f"/campaigns/{campaign.pk}/"))
    assert 'data-testid="campaign-status">Sent<' in done
    assert 'id="count-sent">3<' in done
    assert 'id="count-skipped">1<' in done
    assert 'Skipped: <span class="skipped-reason">unsubscribed 1</span>.' in done
    assert "100.0% done · 3 of 4 sent" in done
    assert "every 1s" not in done
    assert "Pause" not in done


def test_send_now_from_the_campaign_page(project: Project, owner_client: Client) -> None:
    campaign = _campaign(project, _ready(project))

    response = owner_client.post(f"/campaigns/{campaign.pk}/send/", follow=True)

    assert "“December news” is sending." in _body(response)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENDING
    again = owner_client.post(f"/campaigns/{campaign.pk}/send/", follow=True)
    assert again.status_code == 200
    assert "is sending already, so it was not started again." in _body(again)


def test_the_progress_partial_while_sending_and_once_done(project: Project, owner_client: Client) -> None:
    campaign = _started(project, 4)
    ids = list(Message.objects.filter(campaign=campaign).order_by("pk").values_list("pk", flat=True))
    Message.objects.filter(pk__in=ids[:2]).update(state=MessageState.SENT, sent_at=timezone.now())
    Message.objects.filter(pk=ids[2]).update(state=MessageState.SKIPPED, skip_reason="unsubscribed")

    partial = owner_client.get(f"/campaigns/{campaign.pk}/progress/", headers={"HX-Request": "true"})

    body = _body(partial)
    assert "HX-Refresh" not in partial
    assert body.lstrip().startswith('<section id="campaign-progress"')
    assert 'hx-trigger="every 1s"' in body
    assert 'aria-valuenow="75.0"' in body
    assert 'id="count-queued">1<' in body
    assert 'id="count-sent">2<' in body
    assert 'id="count-skipped">1<' in body
    assert 'id="count-failed">0<' in body
    assert 'id="count-cancelled">0<' in body
    assert "unsubscribed 1" in body
    assert "Sending at <strong>0.1</strong> messages a second; time left: under a minute." in body

    Message.objects.filter(pk=ids[3]).update(state=MessageState.SENT, sent_at=timezone.now())
    finish_if_done(campaign)
    finished = owner_client.get(f"/campaigns/{campaign.pk}/progress/", headers={"HX-Request": "true"})
    assert finished["HX-Refresh"] == "true"
    assert "every 1s" not in _body(finished)


def test_a_failed_campaign_shows_its_error_and_can_resume(project: Project, owner_client: Client) -> None:
    campaign = _started(project)
    Campaign.objects.filter(pk=campaign.pk).update(
        status=CampaignStatus.FAILED, error="the relay refused the login"
    )

    body = _body(owner_client.get(f"/campaigns/{campaign.pk}/"))

    assert "Sending stopped: the relay refused the login." in body
    assert f'action="/campaigns/{campaign.pk}/resume/"' in body
    resumed = owner_client.post(f"/campaigns/{campaign.pk}/resume/", follow=True)
    assert "“December news” is sending again." in _body(resumed)


def test_a_campaign_that_never_started_is_not_resumed(project: Project, owner_client: Client) -> None:
    campaign = _campaign(project, _ready(project))
    Campaign.objects.filter(pk=campaign.pk).update(
        status=CampaignStatus.FAILED, error="could not start at its time: no eligible recipients"
    )
    url = f"/campaigns/{campaign.pk}/"

    page = _body(owner_client.get(url))
    refused = _body(owner_client.post(f"{url}resume/", follow=True))

    assert "It never started: could not start at its time: no eligible recipients." in page
    assert f'action="{url}resume/"' not in page
    assert "It never started, so there is nothing to resume; duplicate it instead." in refused
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FAILED


def test_pause_resume_and_cancel(project: Project, owner_client: Client) -> None:
    campaign = _started(project, 3)
    first = Message.objects.filter(campaign=campaign).order_by("pk").first()
    Message.objects.filter(pk=first.pk).update(state=MessageState.SENT, sent_at=timezone.now())
    url = f"/campaigns/{campaign.pk}/"

    paused = _body(owner_client.post(f"{url}pause/", follow=True))
    assert "Sending is paused; 2 messages wait. Resume to send them." in paused
    assert 'data-testid="campaign-status">Paused<' in paused
    assert f'action="{url}resume/"' in paused
    assert "every 1s" not in paused

    resumed = _body(owner_client.post(f"{url}resume/", follow=True))
    assert "“December news” is sending again." in resumed
    assert 'data-testid="campaign-status">Sending<' in resumed

    confirm = _text(owner_client.get(f"{url}cancel/"))
    assert "2 messages are not sent yet and will be left unsent; the 1 already sent stay sent." in confirm

    cancelled = _body(owner_client.post(f"{url}cancel/", follow=True))
    assert "“December news” was cancelled. 2 messages were left unsent." in cancelled
    assert 'data-testid="campaign-status">Cancelled<' in cancelled
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED
    assert Message.objects.filter(campaign=campaign, state=MessageState.CANCELLED).count() == 2


def test_conflicts_are_messages_not_errors(project: Project, owner_client: Client) -> None:
    campaign = _campaign(project, _ready(project))
    url = f"/campaigns/{campaign.pk}/"

    paused = owner_client.post(f"{url}pause/", follow=True)
    resumed = owner_client.post(f"{url}resume/", follow=True)
    services.campaign_start(campaign=campaign)
    archived = owner_client.post(f"{url}archive/", follow=True)
    deleted = owner_client.post(f"{url}delete/", follow=True)
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENT)
    cancelled = owner_client.post(f"{url}cancel/", follow=True)

    assert paused.status_code == 200
    assert "Only a sending campaign can be paused; this one is draft." in _body(paused)
    assert "Only a paused or failed campaign can be resumed; this one is draft." in _body(resumed)
    assert "A sending campaign cannot be archived; cancel it first." in _body(archived)
    assert "Only a draft can be deleted; archive a campaign that sent." in _body(deleted)
    assert "A sent campaign cannot be cancelled." in _body(cancelled)
    assert Campaign.objects.filter(pk=campaign.pk).exists()


def test_actions_are_posts(project: Project, owner_client: Client) -> None:
    campaign = _campaign(project, _ready(project))

    for action in ("send", "schedule", "unschedule", "pause", "resume", "duplicate", "archive", "unarchive"):
        assert owner_client.get(f"/campaigns/{campaign.pk}/{action}/").status_code == 405, action
    assert owner_client.get("/campaigns/check/").status_code == 405


# -- schedule, duplicate, archive, delete ------------------------------------------------------


def test_schedule_from_the_editor_then_unschedule(project: Project, owner_client: Client) -> None:
    setup = _ready(project)
    when = (timezone.now() + timedelta(days=2)).astimezone(timezone.get_default_timezone())
    local = when.strftime("%Y-%m-%dT%H:%M")

    response = owner_client.post(
        "/campaigns/new/",
        _form(setup, action="schedule", when="later", scheduled_at=local, timezone="Europe/Berlin"),
        follow=True,
    )

    campaign = Campaign.objects.get(project=project)
    assert campaign.status == CampaignStatus.SCHEDULED
    assert campaign.timezone == "Europe/Berlin"
    body = _body(response)
    assert f"“December news” will be sent at {when:%Y-%m-%d %H:%M} Europe/Berlin." in body
    assert 'data-testid="campaign-status">Scheduled<' in body
    edit = _body(owner_client.get(f"/campaigns/{campaign.pk}/edit/"))
    assert f'value="{local}"' in edit
    assert 'value="later" id="id_when_1" checked' in edit

    unscheduled = _body(owner_client.post(f"/campaigns/{campaign.pk}/unschedule/", follow=True))
    assert "“December news” is a draft again; it is not sent until you say so." in unscheduled
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_a_time_in_the_past_is_shown_on_its_field(project: Project, owner_client: Client) -> None:
    setup = _ready(project)

    response = owner_client.post(
        "/campaigns/new/",
        _form(setup, action="schedule", when="later", scheduled_at="2020-01-01T09:00", timezone="UTC"),
    )

    assert response.status_code == 422
    body = _body(response)
    assert 'id="id_scheduled_at-error">Must be in the future<' in body
    assert "The campaign was saved as a draft; it is not scheduled yet." in body
    assert Campaign.objects.get(project=project).status == CampaignStatus.DRAFT


def test_schedule_from_the_campaign_page(project: Project, owner_client: Client) -> None:
    campaign = _campaign(project, _ready(project))
    url = f"/campaigns/{campaign.pk}/schedule/"

    past = _body(owner_client.post(url, {"scheduled_at": "2020-01-01T09:00", "timezone": "UTC"}, follow=True))
    zone = _body(
        owner_client.post(url, {"scheduled_at": "2099-01-01T09:00", "timezone": "Mars/Base"}, follow=True)
    )
    done = _body(
        owner_client.post(url, {"scheduled_at": "2099-01-01T09:00", "timezone": "Asia/Tokyo"}, follow=True)
    )

    assert "The send time must be in the future." in past
    assert "'Mars/Base' is not a known time zone (e.g. Europe/Berlin)." in zone
    assert "“December news” will be sent at 2099-01-01 09:00 Asia/Tokyo." in done
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED


def test_duplicate_archive_unarchive_and_delete(project: Project, owner_client: Client) -> None:
    campaign = _campaign(project, _ready(project))
    url = f"/campaigns/{campaign.pk}/"

    copied = owner_client.post(f"{url}duplicate/", follow=True)
    copy = Campaign.objects.exclude(pk=campaign.pk).get()
    assert copied.redirect_chain[-1][0] == f"/campaigns/{copy.pk}/edit/"
    assert "“December news (copy)” is a new draft, copied from “December news”." in _body(copied)

    archived = _body(owner_client.post(f"{url}archive/", follow=True))
    assert "“December news” was archived." in archived
    assert f'action="{url}unarchive/"' in archived
    unarchived = _body(owner_client.post(f"{url}unarchive/", follow=True))
    assert "“December news” is back from the archive." in unarchived

    confirm = _body(owner_client.get(f"{url}delete/"))
    assert "Delete “December news”?" in confirm
    deleted = owner_client.post(f"{url}delete/", follow=True)
    assert deleted.redirect_chain[-1][0] == "/campaigns/"
    assert "“December news” was deleted." in _body(deleted)
    assert not Campaign.objects.filter(pk=campaign.pk).exists()


# -- roles and tenancy --------------------------------------------------------------------------


def test_viewers_see_everything_but_cannot_act(
    project: Project, member_client: Callable[..., Client]
) -> None:
    setup = _ready(project)
    campaign = _campaign(project, setup)
    viewer = member_client(project, Role.VIEWER)
    url = f"/campaigns/{campaign.pk}/"

    page = _body(viewer.get(url))
    assert viewer.get(f"{url}progress/").status_code == 200
    assert viewer.get(f"/campaigns/recipients/?recipients=tag:{setup['tag'].pk}").status_code == 200
    assert "December news" in page
    assert "No problems found" in page
    assert f'action="{url}send/"' not in page
    assert viewer.get("/campaigns/new/").status_code == 403
    assert viewer.post("/campaigns/new/", _form(setup)).status_code == 403
    assert viewer.post("/campaigns/check/", _form(setup)).status_code == 403
    assert viewer.get(f"{url}edit/").status_code == 403
    for action in ("send", "schedule", "unschedule", "pause", "resume", "duplicate", "archive", "unarchive"):
        assert viewer.post(f"{url}{action}/").status_code == 403, action
    for confirm in ("cancel", "delete"):
        assert viewer.get(f"{url}{confirm}/").status_code == 403, confirm
        assert viewer.post(f"{url}{confirm}/").status_code == 403, confirm
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    assert Campaign.objects.count() == 1


def test_editors_may_send(project: Project, member_client: Callable[..., Client]) -> None:
    campaign = _campaign(project, _ready(project))
    editor = member_client(project, Role.EDITOR)

    editor.post(f"/campaigns/{campaign.pk}/send/")

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENDING


def test_another_projects_campaign_is_not_found(
    project: Project, other_project: Project, owner_client: Client
) -> None:
    theirs = _campaign(other_project, _ready(other_project))
    url = f"/campaigns/{theirs.pk}/"

    for path in ("", "progress/", "edit/", "cancel/", "delete/"):
        assert owner_client.get(f"{url}{path}").status_code == 404, path
    for action in (
        "send",
        "schedule",
        "unschedule",
        "pause",
        "resume",
        "cancel",
        "duplicate",
        "archive",
        "delete",
    ):
        assert owner_client.post(f"{url}{action}/").status_code == 404, action
    assert owner_client.post("/campaigns/check/", {"campaign": theirs.pk, "name": "x"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == CampaignStatus.DRAFT
    assert Campaign.objects.count() == 1


def test_a_send_api_batch_is_not_a_campaign_page(project: Project, owner_client: Client) -> None:
    campaign = _campaign(project, _ready(project))
    Campaign.objects.filter(pk=campaign.pk).update(origin="api")

    assert owner_client.get(f"/campaigns/{campaign.pk}/").status_code == 404


def test_the_summary_shows_the_settings(project: Project, owner_client: Client) -> None:
    setup = _ready(project)
    campaign = _campaign(project, setup, replyTo="help@example.com", trackClicks=False)
    Contact.objects.filter(pk=setup["people"][0].pk).update(status=ContactStatus.BOUNCED)

    body = _body(owner_client.get(f"/campaigns/{campaign.pk}/"))

    assert "Acme News <news@example.com>" in body
    assert "help@example.com" in body
    assert 'data-testid="campaign-recipients">Tag: news<' in body
    assert "Outbox" in body
    assert "Opens on · clicks off" in body
    assert "Left out: bounced 1." in body
