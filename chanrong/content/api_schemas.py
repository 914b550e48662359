"""The shapes of the public API (/api/v1/public). Class names start with
`Public` (django-ninja names OpenAPI components after the class). Texts are
plain (no HTML); dates YYYY-MM-DD."""

from datetime import date, datetime

from ninja import Field, Schema

from chanrong.core.apikit.schemas import InputSchema

from .models import AddresseeKind, ArticleCategory, FaqCategory


class PublicArticleOut(Schema):
    id: int
    category: ArticleCategory
    title: str
    body: str = Field(description="纯文本，段落之间以空行分隔")
    source: str
    region_code: str | None = Field(None, alias="region_id")
    agency_name: str | None = Field(None, alias="agency.name")
    published_on: date | None


class PublicArticleFilter(Schema):
    q: str = Field("", max_length=50, description="关键词（标题、正文、来源）")
    category: ArticleCategory | None = None
    region: str = Field(
        "", pattern=r"^(\d{6})?$", description="行政区划代码：本地区及上级、全国的文章"
    )


class PublicFaqOut(Schema):
    id: int
    category: FaqCategory
    question: str
    answer: str
    position: int


class PublicAnswerOut(Schema):
    id: int
    subject: str
    question: str
    answer: str
    asker: str = Field(description="留言人姓名（打码，如 张**）")
    addressee: str
    submitted_at: datetime
    answered_at: datetime | None


class PublicAnswerFilter(Schema):
    q: str = Field("", max_length=50)


class PublicConsultationIn(InputSchema):
    subject: str = Field(description="主题，2–100 字")
    question: str = Field(description="留言内容，纯文本，10–2000 字")
    addressee: str = Field(
        "platform", description="咨询对象：platform、agency:<部门编号> 或 institution:<机构编号>"
    )
    name: str = Field(description="留言人姓名（公开时打码）")
    phone: str = Field("", description="联系电话（电话与邮箱至少一项；不公开）")
    email: str = Field("", description="电子邮箱（不公开）")


class PublicConsultationOut(Schema):
    id: int
    state: str
    addressee_kind: AddresseeKind
