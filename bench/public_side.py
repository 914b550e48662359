#!/usr/bin/env python
"""The public side (公开服务, issue 17) under many rows: what an anonymous
visitor's pages and the public API cost with N published articles and N
published consultations.

Loads N articles (plain-text bodies of about 500 characters) and N
published consultations (askers' contact details encrypted, as stored)
with bulk_create, then times, through Django's test client (the whole
request: middleware, view, template or schema):

  baseline        GET /api/v1/health (the framework's floor, same run)
  landing         GET /public/
  knowledge       GET /public/knowledge/ (first page of 20)
  knowledge ?q=   GET /public/knowledge/?q=<a word from the bodies>
  answers         GET /public/answers/ (first page, askers masked)
  API articles    GET /api/v1/public/articles?q=<word>
  API answers     GET /api/v1/public/consultations

Prints p50 / p95 / max per request; asserts nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chanrong_bench_public \\
        .venv/bin/python bench/public_side.py --rows 20000

The database is migrated if needed; the rows are reused when both tables
hold exactly --rows, else replaced.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = (
    "贴息",
    "担保",
    "信用贷",
    "应收账款",
    "首贷",
    "转贷",
    "风险补偿",
    "专精特新",
    "供应链",
    "续贷",
)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rows", type=int, default=20_000, help="articles and consultations each")
    p.add_argument("--requests", type=int, default=40, help="timed requests per line")
    p.add_argument("--seed", type=int, default=7)
    return p.parse_args()


def load(rows: int, rng: random.Random) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from chanrong.content.models import Article, Consultation

    Article.objects.all().delete()
    Consultation.objects.all().delete()
    today = timezone.localdate()
    now = timezone.now()
    articles = [
        Article(
            category=rng.choice(["product", "policy", "guide", "risk", "case"]),
            title=f"{rng.choice(WORDS)}知识第 {i} 篇",
            body="\n\n".join(
                "".join(rng.choice(WORDS) + "相关说明，" for _ in range(20)) for _ in range(3)
            ),
            source="产融通平台",
            state="published",
            published_on=today - timedelta(days=i % 900),
        )
        for i in range(rows)
    ]
    Article.objects.bulk_create(articles, batch_size=2000)
    consultations = [
        Consultation(
            subject=f"{rng.choice(WORDS)}咨询 {i}",
            question="请问" + rng.choice(WORDS) + "政策的申请条件和所需材料？" * 3,
            addressee_kind="platform",
            asker_name="张小明",
            asker_phone=f"139{rng.randint(0, 99_999_999):08d}",
            state="published",
            answer="答复：" + rng.choice(WORDS) + "政策按文件执行。" * 4,
            answered_at=now - timedelta(minutes=i),
            published_at=now - timedelta(minutes=i),
            submitted_at=now - timedelta(minutes=i + 60),
        )
        for i in range(rows)
    ]
    Consultation.objects.bulk_create(consultations, batch_size=2000)


def timed(client, url: str, n: int) -> list[float]:
    client.get(url)  # warm
    out = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url)
        out.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return out


def main() -> None:
    args = parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chanrong.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from bench._machine import machine_info

    settings.ALLOWED_HOSTS = ["*"]
    # Static files by plain name: no collectstatic manifest needed here.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.CHANRONG_API_RATE_PER_ADDRESS = "off"
    settings.CHANRONG_API_RATE_PER_TOKEN = "off"
    call_command("migrate", verbosity=0)
    from chanrong.content.models import Article, Consultation

    rng = random.Random(args.seed)
    start = time.perf_counter()
    verb = "reused"
    if Article.objects.count() != args.rows or Consultation.objects.count() != args.rows:
        load(args.rows, rng)
        verb = "loaded"
    print(
        f"{verb} {args.rows:,} articles and {args.rows:,} consultations in "
        f"{time.perf_counter() - start:.1f} s ({connection.vendor})"
    )
    for line in machine_info(connection):
        print(line)
    client = Client()
    word = rng.choice(WORDS)
    lines = [
        ("baseline /api/v1/health", "/api/v1/health"),
        ("landing /public/", "/public/"),
        ("knowledge, page 1", "/public/knowledge/"),
        (f"knowledge ?q={word}", f"/public/knowledge/?q={word}"),
        ("answers, page 1", "/public/answers/"),
        (f"API articles ?q={word}", f"/api/v1/public/articles?q={word}"),
        ("API consultations", "/api/v1/public/consultations"),
    ]
    print(f"{'request':32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for label, url in lines:
        times = sorted(timed(client, url, args.requests))
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        print(f"{label:32} {statistics.median(times):8.1f} {p95:8.1f} {times[-1]:8.1f}")


if __name__ == "__main__":
    main()
