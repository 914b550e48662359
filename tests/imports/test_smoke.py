from chanrong.core.importing.services import create_job
from chanrong.registry.models import Enterprise

from .conftest import HEADER, enterprise_row, xlsx


def test_import_small(world):
    data = xlsx([HEADER, enterprise_row(101), enterprise_row(102)])
    job = create_job(world.user("gov_jiashan"), "enterprises", filename="a.xlsx", data=data)
    print(job.status, job.message, job.issues)
    assert job.status == "done"
    assert Enterprise.objects.filter(name__startswith="嘉善导入测试").count() == 2
