"""互联互通 pages: this deployment's identity and peers (the platform admin
issues codes, registers with a parent, queues and retries batches), the
delivery logs on both sides, the refusals, and 下级平台报送 — the figures
received from children, listed per source, region and period. Government
users of a region see its subtree's logs and figures; anyone else gets 404.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from chanrong.core.errors import ServiceError, ValidationFailed
from chanrong.core.paging import paginate

from . import permissions
from .forms import CodeForm, IdentityForm, QueueForm, RegisterForm
from .models import (
    BatchKind,
    DeliveryState,
    InboundBatch,
    OutboundBatch,
    Peer,
    PeerRole,
    PeerState,
    ReceivedFigure,
    Refusal,
)
from .services import compare, envelope, identity, inbox, outbox, peers


def _viewer(request):
    if not permissions.may_view(request.user):
        raise Http404
    return request.user


def _manager(request):
    if not permissions.may_manage(request.user):
        raise Http404
    return request.user


def _home(request, *, status: int = 200, **forms):
    user = _viewer(request)
    me = identity.current()
    context = {
        "me": me,
        "key_id": envelope.key_id(me.public_key) if me else "",
        "parents": Peer.objects.visible_to(user).filter(role=PeerRole.PARENT),
        "children": Peer.objects.visible_to(user).filter(role=PeerRole.CHILD),
        "may_manage": permissions.may_manage(user),
        "identity_form": forms.get("identity_form")
        or IdentityForm(
            initial={"name": me.name, "region_code": me.region_code, "base_url": me.base_url}
            if me
            else {}
        ),
        "code_form": forms.get("code_form") or CodeForm(),
        "register_form": forms.get("register_form") or RegisterForm(),
        "queue_form": forms.get("queue_form") or QueueForm(),
        "new_code": forms.get("new_code"),
        "tab": "home",
    }
    return render(request, "exchange/home.html", context, status=status)


@login_required
@require_GET
def home(request):
    return _home(request)


def _post_form(request, form_class, key: str, call):
    form = form_class(request.POST)
    if not form.is_valid():
        return None, _home(request, status=422, **{key: form})
    try:
        return call(form.cleaned_data), None
    except ValidationFailed as exc:
        form.add_service_errors(exc)
        return None, _home(request, status=422, **{key: form})
    except ServiceError as exc:
        messages.error(request, exc.message)
        return None, redirect("exchange:home")


@login_required
@require_POST
def edit_identity(request):
    user = _manager(request)

    def call(data):
        return identity.save(
            name=data["name"],
            region_code=data["region_code"],
            base_url=data["base_url"],
            actor=user,
        )

    done, response = _post_form(request, IdentityForm, "identity_form", call)
    if response:
        return response
    messages.success(request, _("本平台身份已保存"))
    return redirect("exchange:home")


@login_required
@require_POST
def issue_code(request):
    user = _manager(request)
    done, response = _post_form(
        request,
        CodeForm,
        "code_form",
        lambda d: peers.issue_code(user, region_code=d["region_code"], note=d["note"]),
    )
    if response:
        return response
    row, code = done
    # Shown once, on this response only; the database keeps its hash.
    return _home(request, new_code={"code": code, "row": row})


@login_required
@require_POST
def register(request):
    user = _manager(request)
    done, response = _post_form(
        request,
        RegisterForm,
        "register_form",
        lambda d: peers.register_with_parent(user, parent_url=d["parent_url"], code=d["code"]),
    )
    if response:
        return response
    messages.success(
        request, _("已注册为“%(name)s”的下级平台，双方公钥已互相固定") % {"name": done.name}
    )
    return redirect("exchange:home")


@login_required
@require_POST
def queue(request):
    user = _manager(request)
    done, response = _post_form(
        request,
        QueueForm,
        "queue_form",
        lambda d: outbox.queue_by_hand(user, kind=d["kind"], period=d["period"]),
    )
    if response:
        return response
    if done:
        messages.success(request, _("已生成 %(n)s 个批次，正在报送") % {"n": len(done)})
    else:
        messages.info(request, _("该报告期的批次已生成过，未重复生成"))
    return redirect("exchange:outbound")


@login_required
@require_POST
def push_now(request, pk: int):
    _manager(request)
    peer = get_object_or_404(Peer, pk=pk, role=PeerRole.PARENT)
    counts = outbox.deliver(peer.pk, force=True)
    messages.info(
        request,
        _("已确认 %(delivered)s 个，被拒收 %(refused)s 个，失败 %(failed)s 个（稍后自动重试）")
        % counts,
    )
    return redirect("exchange:outbound")


@login_required
@require_POST
def pull_now(request, pk: int):
    _manager(request)
    peer = get_object_or_404(Peer, pk=pk, role=PeerRole.CHILD)
    try:
        counts = inbox.pull(peer)
    except Exception as exc:  # noqa: BLE001 - a network failure is shown, not raised
        messages.error(request, _("拉取失败：%(error)s") % {"error": exc})
    else:
        messages.info(request, _("拉取：接收 %(accepted)s 个，拒收 %(refused)s 个") % counts)
    return redirect("exchange:inbound")


@login_required
@require_POST
def peer_state(request, pk: int):
    user = _manager(request)
    peer = get_object_or_404(Peer, pk=pk)
    state = PeerState.SUSPENDED if peer.state == PeerState.ACTIVE else PeerState.ACTIVE
    peers.set_state(user, peer, state)
    messages.success(request, _("已更新“%(name)s”的状态") % {"name": peer.name})
    return redirect("exchange:home")


@login_required
@require_GET
def outbound(request):
    user = _viewer(request)
    qs = OutboundBatch.objects.visible_to(user).select_related("peer").defer("body")
    state = request.GET.get("state", "")
    if state in DeliveryState.values:
        qs = qs.filter(state=state)
    return render(
        request,
        "exchange/outbound.html",
        {
            "pager": paginate(request, qs),
            "state": state,
            "states": DeliveryState.choices,
            "parents": Peer.objects.visible_to(user).filter(role=PeerRole.PARENT),
            "may_manage": permissions.may_manage(user),
            "tab": "outbound",
        },
    )


@login_required
@require_GET
def inbound(request):
    user = _viewer(request)
    qs = InboundBatch.objects.visible_to(user).select_related("peer").defer("body", "payload")
    kind = request.GET.get("kind", "")
    if kind in BatchKind.values:
        qs = qs.filter(kind=kind)
    return render(
        request,
        "exchange/inbound.html",
        {
            "pager": paginate(request, qs),
            "kind": kind,
            "kinds": BatchKind.choices,
            "children": Peer.objects.visible_to(user).filter(role=PeerRole.CHILD),
            "may_manage": permissions.may_manage(user),
            "tab": "inbound",
        },
    )


@login_required
@require_GET
def inbound_detail(request, batch_id):
    user = _viewer(request)
    batch = get_object_or_404(
        InboundBatch.objects.visible_to(user).select_related("peer"), batch_id=batch_id
    )
    return render(
        request,
        "exchange/inbound_detail.html",
        {
            "batch": batch,
            "figures": batch.figures.order_by("region_code", "key")[:500],
            "payload": json.dumps(batch.payload, ensure_ascii=False, indent=2)[:200_000],
            "list_version": _received_version(user, batch),
            "tab": "inbound",
        },
    )


def _received_version(user, batch: InboundBatch):
    """The registry list version a received list batch became (§ 8), with
    how many entries matched an enterprise here; None for other kinds."""
    from chanrong.registry.models import ListVersion

    if batch.kind != "list_version":
        return None
    version = (
        ListVersion.objects.visible_to(user)
        .filter(source_batch=str(batch.batch_id))
        .select_related("list")
        .first()
    )
    if version is not None:
        version.matched = version.entries.count()
    return version


@login_required
@require_GET
def refusals(request):
    user = _viewer(request)
    qs = Refusal.objects.visible_to(user).select_related("peer")
    return render(
        request, "exchange/refusals.html", {"pager": paginate(request, qs), "tab": "refusals"}
    )


@login_required
@require_GET
def received(request):
    """下级平台报送: the figures children reported, each with its source."""
    user = _viewer(request)
    qs = ReceivedFigure.objects.visible_to(user).select_related("peer", "batch")
    period = request.GET.get("period", "").strip()
    kind = request.GET.get("kind", "")
    peer = request.GET.get("peer", "")
    if period and envelope.PERIOD_RE.match(period):
        qs = qs.filter(period=period)
    if kind in (BatchKind.INDICATOR_ACTUALS, BatchKind.FINANCING_STATS):
        qs = qs.filter(kind=kind)
    if peer.isdigit():
        qs = qs.filter(peer_id=int(peer))
    qs = qs.order_by("peer__name", "region_code", "-period", "key", "pk")
    pager = paginate(request, qs)
    pager["rows"] = compare.annotate(pager["page_obj"].object_list)
    return render(
        request,
        "exchange/received.html",
        {
            "pager": pager,
            "period": period,
            "kind": kind,
            "peer": peer,
            "children": Peer.objects.visible_to(user).filter(role=PeerRole.CHILD),
            "kinds": [
                (BatchKind.INDICATOR_ACTUALS, BatchKind.INDICATOR_ACTUALS.label),
                (BatchKind.FINANCING_STATS, BatchKind.FINANCING_STATS.label),
            ],
            "tab": "received",
        },
    )
