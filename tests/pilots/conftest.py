"""Fixtures for the pilot-city programme: an open batch, applicants for any
region, complete applications, and small valid files of each type."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from chanrong.accounts.models import AgencyFunction, AgencyLevel, GovernmentAgency, Role, User
from chanrong.core.models import Region
from chanrong.pilots import services
from chanrong.pilots.models import (
    Application,
    ApplicationKind,
    ApplicationState,
    Batch,
    BatchState,
    ProvincialReview,
)
from tests.conftest import PASSWORD

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 32


def ooxml(kind: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml" if kind == "docx" else "xl/workbook.xml", "<x/>")
    return buffer.getvalue()


def upload(name: str, content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def make_user(
    username: str,
    region_code: str | None,
    *,
    function: str = AgencyFunction.INDUSTRY,
    role: str = Role.GOV_ADMIN,
    agency_name: str | None = None,
) -> User:
    """A government user of an agency of `region_code` (None = national)."""
    if region_code is None:
        level = AgencyLevel.NATIONAL
    else:
        region = Region.objects.get(pk=region_code)
        if region.level == "province" or region.is_corps:
            level = AgencyLevel.PROVINCIAL
        elif region.level == "prefecture":
            level = AgencyLevel.MUNICIPAL
        else:
            level = AgencyLevel.COUNTY
    agency, _ = GovernmentAgency.objects.get_or_create(
        region_id=region_code,
        function=function,
        level=level,
        defaults={"name": agency_name or f"{region_code or '国家'}-{function}"},
    )
    user = User(username=username, role=role, agency=agency, display_name=username)
    user.set_password(PASSWORD)
    user.save()
    return user


@dataclass
class Pilot:
    batch: Batch
    ministry: User
    world: object

    def applicant(self, region_code: str) -> User:
        """The government admin of that region (created on first use)."""
        agency = GovernmentAgency.objects.filter(region_id=region_code).first()
        if agency is not None:
            user = User.objects.filter(agency=agency, role=Role.GOV_ADMIN).first()
            if user is not None:
                return user
        return make_user(f"admin_{region_code}", region_code)


@pytest.fixture
def pilot(world) -> Pilot:
    """An open batch (第二批) whose deadlines are still ahead."""
    ministry = world.user("gov_national")
    today = timezone.localdate()
    batch = services.create_batch(
        ministry,
        {
            "number": 2,
            "name": "第二批",
            "notice_title": "关于组织申报第二批产融合作试点城市的通知",
            "notice_number": "工信部联财函〔2020〕161号",
            "application_deadline": today + timedelta(days=10),
            "provincial_deadline": today + timedelta(days=20),
        },
    )
    services.open_batch(ministry, batch)
    batch.refresh_from_db()
    return Pilot(batch=batch, ministry=ministry, world=world)


def start_year(batch: Batch) -> int:
    return batch.application_deadline.year + 1


def fill_application(user: User, batch: Batch, *, start: int | None = None, **extra) -> Application:
    """A complete draft: period, every chapter, 申报文件 and one target a year."""
    start = start or start_year(batch)
    application = services.create_application(
        user,
        batch,
        {
            "title": "产融合作试点城市实施方案",
            "start_year": start,
            "end_year": start + 2,
            "contact_name": "张三",
            "contact_phone": "0573-84000000",
            **extra,
        },
    )
    services.save_sections(
        user, application, {s.key: f"{s.title}的内容。" for s in application.sections.all()}
    )
    services.add_application_document(user, application, "declaration", upload("申报文件.pdf"))
    services.set_indicator_targets(
        user,
        application,
        [
            {"definition": "gdp", "year": y, "value": "714", "second_value": "9"}
            for y in range(start, start + 3)
        ],
    )
    application.refresh_from_db()
    return application


def submitted_application(user: User, batch: Batch, **extra) -> Application:
    application = fill_application(user, batch, **extra)
    return services.submit_application(user, application)


def quick_submitted(batch: Batch, region_code: str) -> Application:
    """A submitted new application awaiting provincial review, written
    directly (for quota tests that do not need the documents)."""
    region = Region.objects.get(pk=region_code)
    application = Application.objects.create(
        batch=batch,
        region=region,
        review_region=services.review_unit_for(region),
        kind=ApplicationKind.NEW,
        title=f"{region.name}实施方案",
        start_year=start_year(batch),
        end_year=start_year(batch) + 2,
        state=ApplicationState.SUBMITTED,
        submitted_at=timezone.now(),
    )
    ProvincialReview.objects.create(
        application=application, batch=batch, review_region=application.review_region
    )
    return application


def set_dates(batch: Batch, *, application_days: int, provincial_days: int) -> None:
    """Move the deadlines relative to today (negative = already passed)."""
    today = timezone.localdate()
    Batch.objects.filter(pk=batch.pk).update(
        application_deadline=today + timedelta(days=application_days),
        provincial_deadline=today + timedelta(days=provincial_days),
    )
    batch.refresh_from_db()


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        assert client.login(username=user.username, password=PASSWORD)
    return client


__all__ = ["BatchState"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the reference data once into the test database, so that each
    test's `refdata_loaded` finds it instead of reloading ~3,000 regions."""
    from chanrong.core import refdata

    with django_db_blocker.unblock():
        if not refdata.is_loaded():
            refdata.load_all()
