"""Organizations and affiliations: who works (or studies) where, and since when.

An e-mail domain implies an organization through three layers, the later winning: the built-in
seed list (``SEED_DOMAINS``), the domains recorded on organizations in the store (``commops orgs
add-domain``), and ``[organizations.domains]`` in commops.toml. A subdomain maps like its parent
(``mails.tsinghua.edu.cn`` is Tsinghua University); the longest matching suffix wins. Public
e-mail providers (``PUBLIC_PROVIDERS``, their country variants and ``[organizations]
public_providers``), local host names and no-reply addresses never imply an organization.

``affiliate`` derives dated enrollments (origin ``domain``) from the e-mail identities of each
member and the dates of their activities; enrollments made by hand (``manual``) or imported
(``import``) win over them. The rules are written out in docs/organizations.md.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import ConfigError, UsageError
from commops.store.models import Activity, Enrollment, Identity, IdentityLog, Member, Organization

ORG_KINDS = frozenset(
    {"company", "university", "community", "foundation", "research", "government", "other"}
)
MANUAL_ORIGINS = frozenset({"manual", "import"})

# Public e-mail providers: an address there says nothing about an employer.
PUBLIC_PROVIDERS = frozenset(
    {
        # China
        "qq.com",
        "vip.qq.com",
        "foxmail.com",
        "163.com",
        "126.com",
        "yeah.net",
        "vip.163.com",
        "vip.126.com",
        "188.com",
        "sina.com",
        "sina.cn",
        "vip.sina.com",
        "sohu.com",
        "aliyun.com",
        "139.com",
        "189.cn",
        "wo.cn",
        "tom.com",
        "21cn.com",
        # International
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "passport.com",
        "yahoo.com",
        "ymail.com",
        "rocketmail.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "protonmail.com",
        "protonmail.ch",
        "proton.me",
        "pm.me",
        "tutanota.com",
        "tutanota.de",
        "tutamail.com",
        "tuta.io",
        "hey.com",
        "zoho.com",
        "zohomail.com",
        "fastmail.com",
        "fastmail.fm",
        "gmx.com",
        "gmx.net",
        "gmx.de",
        "web.de",
        "t-online.de",
        "posteo.de",
        "mailbox.org",
        "mail.com",
        "email.com",
        "mail.ru",
        "inbox.ru",
        "list.ru",
        "bk.ru",
        "rambler.ru",
        "yandex.com",
        "yandex.ru",
        "ya.ru",
        "naver.com",
        "hanmail.net",
        "daum.net",
        "rediffmail.com",
        "seznam.cz",
        "libero.it",
        "laposte.net",
        "orange.fr",
        "free.fr",
        "wanadoo.fr",
        "riseup.net",
        "disroot.org",
        "duck.com",
        "hushmail.com",
        "keemail.me",
        "163.net",
        # No-reply and relay addresses of forges: the login, never the employer.
        "users.noreply.github.com",
        "noreply.github.com",
        "noreply.gitee.com",
        "users.noreply.gitlab.com",
        "noreply.gitlab.com",
        "noreply.codeberg.org",
        "users.noreply.bitbucket.org",
    }
)

# Providers with country variants: any domain whose registrable part starts with one of these
# labels is public (yahoo.co.jp, hotmail.fr, yandex.kz, gmx.at, live.cn, outlook.jp).
PUBLIC_BRANDS = frozenset(
    {
        "gmail",
        "googlemail",
        "yahoo",
        "ymail",
        "hotmail",
        "outlook",
        "live",
        "msn",
        "windowslive",
        "aol",
        "gmx",
        "yandex",
        "fastmail",
        "protonmail",
        "proton",
        "tutanota",
        "zoho",
        "icloud",
        "qq",
        "foxmail",
        "sina",
        "sohu",
        "hanmail",
        "rediffmail",
        "libero",
    }
)

# Host names that only exist on one machine or network: user@laptop.local, root@build.internal.
LOCAL_SUFFIXES = frozenset(
    {
        "local",
        "localhost",
        "localdomain",
        "lan",
        "home",
        "internal",
        "intranet",
        "corp",
        "private",
        "invalid",
        "test",
        "example",
        "none",
        "(none)",
        "arpa",
    }
)

# Second-level labels under which registration happens in many country domains (co.jp, com.cn,
# ac.uk): the registrable part of mail.yahoo.co.jp is yahoo.co.jp.
_SECOND_LEVEL = frozenset({"co", "com", "net", "org", "edu", "ac", "gov", "ne", "or", "go"})

# The seed list: domains of organizations common in cloud-native and open-source communities.
# domain -> (organization name, kind). Extend or override it in commops.toml.
SEED_DOMAINS: dict[str, tuple[str, str]] = {
    # The KubeSphere world
    "qingcloud.com": ("QingCloud", "company"),
    "yunify.com": ("QingCloud", "company"),
    "kubesphere.io": ("KubeSphere", "community"),
    # Companies
    "google.com": ("Google", "company"),
    "microsoft.com": ("Microsoft", "company"),
    "redhat.com": ("Red Hat", "company"),
    "ibm.com": ("IBM", "company"),
    "intel.com": ("Intel", "company"),
    "vmware.com": ("VMware", "company"),
    "broadcom.com": ("Broadcom", "company"),
    "huawei.com": ("Huawei", "company"),
    "alibaba-inc.com": ("Alibaba", "company"),
    "antgroup.com": ("Ant Group", "company"),
    "antfin.com": ("Ant Group", "company"),
    "tencent.com": ("Tencent", "company"),
    "bytedance.com": ("ByteDance", "company"),
    "baidu.com": ("Baidu", "company"),
    "jd.com": ("JD.com", "company"),
    "xiaomi.com": ("Xiaomi", "company"),
    "netease.com": ("NetEase", "company"),
    "meituan.com": ("Meituan", "company"),
    "didiglobal.com": ("DiDi", "company"),
    "zte.com.cn": ("ZTE", "company"),
    "inspur.com": ("Inspur", "company"),
    "daocloud.io": ("DaoCloud", "company"),
    "pingcap.com": ("PingCAP", "company"),
    "easystack.cn": ("EasyStack", "company"),
    "99cloud.net": ("99Cloud", "company"),
    "nvidia.com": ("NVIDIA", "company"),
    "amazon.com": ("Amazon", "company"),
    "apple.com": ("Apple", "company"),
    "meta.com": ("Meta", "company"),
    "fb.com": ("Meta", "company"),
    "github.com": ("GitHub", "company"),
    "gitlab.com": ("GitLab", "company"),
    "suse.com": ("SUSE", "company"),
    "suse.de": ("SUSE", "company"),
    "canonical.com": ("Canonical", "company"),
    "cisco.com": ("Cisco", "company"),
    "oracle.com": ("Oracle", "company"),
    "sap.com": ("SAP", "company"),
    "ericsson.com": ("Ericsson", "company"),
    "docker.com": ("Docker", "company"),
    "isovalent.com": ("Isovalent", "company"),
    "tetrate.io": ("Tetrate", "company"),
    # Foundations
    "linuxfoundation.org": ("The Linux Foundation", "foundation"),
    "cncf.io": ("CNCF", "foundation"),
    # Universities and research institutes
    "tsinghua.edu.cn": ("Tsinghua University", "university"),
    "pku.edu.cn": ("Peking University", "university"),
    "zju.edu.cn": ("Zhejiang University", "university"),
    "sjtu.edu.cn": ("Shanghai Jiao Tong University", "university"),
    "fudan.edu.cn": ("Fudan University", "university"),
    "ustc.edu.cn": ("University of Science and Technology of China", "university"),
    "nju.edu.cn": ("Nanjing University", "university"),
    "hust.edu.cn": ("Huazhong University of Science and Technology", "university"),
    "whu.edu.cn": ("Wuhan University", "university"),
    "buaa.edu.cn": ("Beihang University", "university"),
    "bupt.edu.cn": ("Beijing University of Posts and Telecommunications", "university"),
    "xidian.edu.cn": ("Xidian University", "university"),
    "ucas.ac.cn": ("University of Chinese Academy of Sciences", "university"),
    "iscas.ac.cn": ("Institute of Software, Chinese Academy of Sciences", "research"),
    "mit.edu": ("Massachusetts Institute of Technology", "university"),
    "stanford.edu": ("Stanford University", "university"),
    "berkeley.edu": ("University of California, Berkeley", "university"),
    "cmu.edu": ("Carnegie Mellon University", "university"),
    "harvard.edu": ("Harvard University", "university"),
    "ox.ac.uk": ("University of Oxford", "university"),
    "cam.ac.uk": ("University of Cambridge", "university"),
    "ethz.ch": ("ETH Zurich", "university"),
    "tum.de": ("Technical University of Munich", "university"),
}

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


# -- domains ----------------------------------------------------------------------------------


def normalize_domain(text: str) -> str | None:
    """``text`` as a lower-case domain name, or None when it is not one (no dot, bad labels,
    an IP address). Unicode names are turned into their ASCII (IDNA) form."""
    domain = text.strip().lower().removeprefix("@").rstrip(".")
    if not domain or len(domain) > 253:
        return None
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return None
    if labels[-1].isdigit():  # 10.0.0.1 and friends
        return None
    return domain


def email_domain(email: str) -> str | None:
    """The domain of an e-mail address, or None when the address is malformed."""
    local, at, domain = email.strip().rpartition("@")
    if not at or not local.strip():
        return None
    return normalize_domain(domain.strip().strip("[]>"))


def _suffixes(domain: str) -> Iterable[str]:
    """mail.a.b.c -> mail.a.b.c, a.b.c, b.c (never the bare top-level label)."""
    labels = domain.split(".")
    for i in range(len(labels) - 1):
        yield ".".join(labels[i:])


def registrable_domain(domain: str) -> str:
    """The part of ``domain`` its owner registered: mail.yahoo.co.jp -> yahoo.co.jp,
    mails.tsinghua.edu.cn -> tsinghua.edu.cn, a.b.example.com -> example.com. A heuristic (no
    public suffix list): three labels when the second-to-last is a generic label such as
    ``co``, ``com`` or ``edu`` under a two-letter country code, two otherwise."""
    labels = domain.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def is_local_domain(domain: str) -> bool:
    """A host name with no dot, or under a suffix that only exists on one network."""
    return "." not in domain or domain.rsplit(".", 1)[1] in LOCAL_SUFFIXES


class ProviderRules:
    """Which domains are public e-mail providers: the built-in list and brands, and more
    domains (``example-mail.com``, covering its subdomains) or brands (``example-mail.*``, any
    country variant) from the workspace's configuration."""

    def __init__(self, extra_public: Iterable[str] = ()) -> None:
        domains = set(PUBLIC_PROVIDERS)
        brands = set(PUBLIC_BRANDS)
        for entry in extra_public:
            value = entry.strip().lower().removeprefix("@")
            if value.endswith(".*"):
                brands.add(value[:-2])
            elif value:
                domains.add(value.rstrip("."))
        self.domains = frozenset(domains)
        self.brands = frozenset(brands)

    def is_public(self, domain: str) -> bool:
        if any(s in self.domains for s in _suffixes(domain)):
            return True
        return registrable_domain(domain).split(".", 1)[0] in self.brands


def is_public_domain(domain: str, extra_public: Iterable[str] = ()) -> bool:
    return ProviderRules(extra_public).is_public(domain.strip().lower())


class DomainMap:
    """E-mail domain -> (organization name, kind): public providers and local host names first
    (never an organization), then the longest suffix found in ``domains``."""

    def __init__(self, domains: Mapping[str, tuple[str, str]], providers: ProviderRules) -> None:
        self.domains = dict(domains)
        self.providers = providers
        self._cache: dict[str, tuple[str, str] | None] = {}
        self._raw: dict[str, tuple[str, str] | None] = {}  # as written in addresses

    def for_domain(self, domain: str) -> tuple[str, str] | None:
        try:
            return self._cache[domain]
        except KeyError:
            pass
        found: tuple[str, str] | None = None
        if not is_local_domain(domain) and not self.providers.is_public(domain):
            found = next((self.domains[s] for s in _suffixes(domain) if s in self.domains), None)
        self._cache[domain] = found
        return found

    def for_email(self, email: str) -> tuple[str, str] | None:
        local, at, raw = email.strip().rpartition("@")
        if not at or not local.strip():
            return None
        try:
            return self._raw[raw]
        except KeyError:
            pass
        domain = normalize_domain(raw.strip().strip("[]>"))
        found = None if domain is None else self.for_domain(domain)
        self._raw[raw] = found
        return found


def _seed_kinds() -> dict[str, str]:
    return {name.casefold(): kind for name, kind in SEED_DOMAINS.values()}


def domain_map(
    extra_domains: Mapping[str, str] | None = None,
    extra_public: Iterable[str] = (),
    kinds: Mapping[str, str] | None = None,
) -> DomainMap:
    """The seed list overlaid with ``extra_domains`` (domain -> organization name). An
    organization's kind comes from ``kinds`` (by name, any case), else the seed, else
    ``company``."""
    known = _seed_kinds()
    known.update({k.casefold(): v for k, v in (kinds or {}).items()})
    merged = dict(SEED_DOMAINS)
    for domain, name in (extra_domains or {}).items():
        merged[domain.strip().lower()] = (name, known.get(name.casefold(), "company"))
    return DomainMap(merged, ProviderRules(extra_public))


def organization_for_email(
    email: str,
    extra_domains: Mapping[str, str] | None = None,
    extra_public: Iterable[str] = (),
) -> tuple[str, str] | None:
    """The organization (name, kind) an e-mail address implies, or None: public providers,
    no-reply addresses, local host names and malformed addresses imply none."""
    return domain_map(extra_domains, extra_public).for_email(email)


# -- organizations ----------------------------------------------------------------------------


def _check_domain(text: str, providers: ProviderRules) -> str:
    domain = normalize_domain(text)
    if domain is None or is_local_domain(domain):
        raise UsageError(
            f"{text!r} is not an e-mail domain",
            hint="Give a domain such as example.com (no @, no scheme, at least one dot).",
        )
    if providers.is_public(domain):
        raise UsageError(
            f"{domain} is a public e-mail provider: it never implies an organization",
            hint="Add the people who use it to an organization with `commops orgs enroll`.",
        )
    return domain


def find_organization(session: Session, org: str | int) -> Organization | None:
    """An organization by id (a number) or name (any case)."""
    if isinstance(org, int) or (isinstance(org, str) and org.strip().isdigit()):
        found = session.get(Organization, int(org))
        if found is not None or isinstance(org, int):
            return found
    return organization_named(session, str(org))


def organization_named(session: Session, name: str) -> Organization | None:
    wanted = name.strip().casefold()
    for candidate in session.execute(select(Organization)).scalars():
        if candidate.name.casefold() == wanted:
            return candidate
    return None


def get_organization(session: Session, org: str | int) -> Organization:
    found = find_organization(session, org)
    if found is None:
        what = f"id {org}" if isinstance(org, int) else repr(org)
        raise UsageError(
            f"no organization {what}",
            hint="List them with `commops orgs list`; create one with `commops orgs add NAME`.",
        )
    return found


def _owner(session: Session, domain: str) -> Organization | None:
    for org in session.execute(select(Organization)).scalars():
        if domain in (org.domains or []):
            return org
    return None


def _check_name(name: str) -> str:
    clean = " ".join(name.split())
    if not clean:
        raise UsageError("an organization needs a name")
    if len(clean) > 300:
        raise UsageError(f"organization name {clean[:40]!r}... is longer than 300 characters")
    return clean


def _check_kind(kind: str) -> str:
    if kind not in ORG_KINDS:
        raise UsageError(f"organization kind {kind!r} is not one of {', '.join(sorted(ORG_KINDS))}")
    return kind


def ensure_organization(
    session: Session,
    name: str,
    kind: str = "company",
    domains: Iterable[str] = (),
    *,
    extra_public: Iterable[str] = (),
    configured: Mapping[str, str] | None = None,
) -> Organization:
    """The organization named ``name`` (any case), created with ``kind`` when missing, with
    ``domains`` recorded on it. An existing organization keeps its kind. Every domain is
    checked before anything changes (see ``add_domain``)."""
    name = _check_name(name)
    _check_kind(kind)
    org = organization_named(session, name)
    checked = [
        _domain_for(session, org, name, d, ProviderRules(extra_public), configured) for d in domains
    ]
    if org is None:
        org = Organization(name=name, kind=kind, domains=[], created_at=utcnow())
        session.add(org)
        session.flush()
    _record(org, checked)
    return org


def _domain_for(
    session: Session,
    org: Organization | None,
    name: str,
    text: str,
    providers: ProviderRules,
    configured: Mapping[str, str] | None,
) -> str:
    domain = _check_domain(text, providers)
    owner = _owner(session, domain)
    if owner is not None and (org is None or owner.id != org.id):
        raise UsageError(
            f"{domain} already belongs to organization {owner.name!r} (id {owner.id})",
            hint="A domain implies one organization. To move it, map it in commops.toml "
            "[organizations.domains], which wins over the store.",
        )
    mapped = (configured or {}).get(domain)
    if mapped is not None and mapped.casefold() != name.casefold():
        raise UsageError(
            f"{domain} is mapped to {mapped!r} by [organizations.domains] in commops.toml",
            hint="Change or remove that line first.",
        )
    return domain


def _record(org: Organization, domains: Iterable[str]) -> None:
    current = list(org.domains or [])
    added = [d for d in domains if d not in current]
    if added:
        org.domains = sorted({*current, *added})  # a new list: JSON columns track assignment


def add_domain(
    session: Session,
    org_name_or_id: str | int,
    domain: str,
    *,
    create: bool = False,
    kind: str = "company",
    extra_public: Iterable[str] = (),
    configured: Mapping[str, str] | None = None,
) -> Organization:
    """Record that ``domain`` (and its subdomains) implies the organization. Errors, with no
    change, when the domain is malformed or a public provider, belongs to another organization,
    or is mapped elsewhere by ``configured`` (commops.toml); or when the organization does not
    exist and ``create`` is false."""
    org = find_organization(session, org_name_or_id)
    if org is None and not create:
        get_organization(session, org_name_or_id)  # raises the usual error
    name = org.name if org is not None else _check_name(str(org_name_or_id))
    checked = _domain_for(session, org, name, domain, ProviderRules(extra_public), configured)
    if org is None:
        return ensure_organization(session, name, kind, [checked], extra_public=extra_public)
    _record(org, [checked])
    return org


# -- listing ----------------------------------------------------------------------------------


@dataclass
class OrganizationSummary:
    id: int
    name: str
    kind: str
    domains: list[str]
    members: int  # with an enrollment that is current today
    members_ever: int
    created_at: datetime


@dataclass
class EnrollmentInfo:
    enrollment_id: int
    member_id: int
    display_name: str
    organization_id: int
    organization: str
    start_date: date | None
    end_date: date | None
    origin: str | None
    current: bool


@dataclass
class OrganizationDetail:
    id: int
    name: str
    kind: str
    domains: list[str]
    created_at: datetime
    members: int
    enrollments: list[EnrollmentInfo] = field(default_factory=list)


def _current(start: date | None, end: date | None, on: date) -> bool:
    return (start is None or start <= on) and (end is None or end >= on)


def list_organizations(session: Session, *, today: date | None = None) -> list[OrganizationSummary]:
    """Every organization with its domains and how many members it has: ``members`` counts
    those enrolled today (open end or an end date not passed), ``members_ever`` every member
    ever enrolled. Most members first."""
    on = today or utcnow().date()
    now: dict[int, set[int]] = defaultdict(set)
    ever: dict[int, set[int]] = defaultdict(set)
    rows = session.execute(
        select(
            Enrollment.organization_id,
            Enrollment.member_id,
            Enrollment.start_date,
            Enrollment.end_date,
        )
    )
    for org_id, member_id, start, end in rows:
        ever[org_id].add(member_id)
        if _current(start, end, on):
            now[org_id].add(member_id)
    out = [
        OrganizationSummary(
            id=org.id,
            name=org.name,
            kind=org.kind,
            domains=list(org.domains or []),
            members=len(now[org.id]),
            members_ever=len(ever[org.id]),
            created_at=org.created_at,
        )
        for org in session.execute(select(Organization)).scalars()
    ]
    out.sort(key=lambda o: (-o.members, -o.members_ever, o.name.casefold()))
    return out


def _enrollment_infos(session: Session, where: Any, on: date) -> list[EnrollmentInfo]:
    rows = session.execute(
        select(Enrollment, Member.display_name, Organization.name)
        .join(Member, Member.id == Enrollment.member_id)
        .join(Organization, Organization.id == Enrollment.organization_id)
        .where(where)
    ).all()
    out = [
        EnrollmentInfo(
            enrollment_id=e.id,
            member_id=e.member_id,
            display_name=display,
            organization_id=e.organization_id,
            organization=org_name,
            start_date=e.start_date,
            end_date=e.end_date,
            origin=e.origin,
            current=_current(e.start_date, e.end_date, on),
        )
        for e, display, org_name in rows
    ]
    out.sort(key=lambda i: (not i.current, i.display_name.casefold(), i.start_date or date.min))
    return out


def organization_detail(
    session: Session, org: str | int, *, today: date | None = None
) -> OrganizationDetail:
    """One organization with every enrollment in it (member, dates, origin, current today)."""
    found = get_organization(session, org)
    on = today or utcnow().date()
    infos = _enrollment_infos(session, Enrollment.organization_id == found.id, on)
    return OrganizationDetail(
        id=found.id,
        name=found.name,
        kind=found.kind,
        domains=list(found.domains or []),
        created_at=found.created_at,
        members=len({i.member_id for i in infos if i.current}),
        enrollments=infos,
    )


def member_enrollments(
    session: Session, member_id: int, *, today: date | None = None
) -> list[EnrollmentInfo]:
    """A member's enrollments, current ones first."""
    return _enrollment_infos(session, Enrollment.member_id == member_id, today or utcnow().date())


# -- manual enrollments ------------------------------------------------------------------------


def _overlap(a: tuple[date | None, date | None], b: tuple[date | None, date | None]) -> bool:
    (a_start, a_end), (b_start, b_end) = a, b
    return (a_start is None or b_end is None or a_start <= b_end) and (
        b_start is None or a_end is None or b_start <= a_end
    )


def _span(start: date | None, end: date | None) -> str:
    return f"{start or '…'} to {end or '…'}"


def _enrollment_json(e: Enrollment) -> dict[str, Any]:
    return {
        "id": e.id,
        "member_id": e.member_id,
        "organization_id": e.organization_id,
        "start_date": None if e.start_date is None else e.start_date.isoformat(),
        "end_date": None if e.end_date is None else e.end_date.isoformat(),
        "origin": e.origin,
    }


def enroll(
    session: Session,
    member_id: int,
    org: str | int,
    *,
    start: date | None = None,
    end: date | None = None,
    actor: str,
    reason: str | None = None,
    origin: str = "manual",
) -> Enrollment:
    """Enroll a member in an organization by hand (origin ``manual``). A member with a manual
    enrollment gets no enrollments from e-mail domains, so the member's ``domain``
    enrollments are removed here. Logged as an ``enroll`` entry whose changes are
    ``{"enrollments_added": [id], "enrollments_removed": [enrollment as JSON, ...]}``."""
    if origin not in MANUAL_ORIGINS:
        raise UsageError(f"origin {origin!r} is not one of {', '.join(sorted(MANUAL_ORIGINS))}")
    member = session.get(Member, member_id)
    if member is None:
        raise UsageError(
            f"no member with id {member_id}", hint="Find members with `commops members list`."
        )
    organization = get_organization(session, org)
    if start is not None and end is not None and start > end:
        raise UsageError(f"enrollment of member {member_id}: start {start} is after end {end}")
    existing = (
        session.execute(select(Enrollment).where(Enrollment.member_id == member_id)).scalars().all()
    )
    for other in existing:
        if (
            other.origin in MANUAL_ORIGINS
            and other.organization_id == organization.id
            and _overlap((other.start_date, other.end_date), (start, end))
        ):
            raise UsageError(
                f"member {member_id} ({member.display_name}) is already enrolled in "
                f"{organization.name} from {_span(other.start_date, other.end_date)} "
                f"(enrollment {other.id}), which overlaps {_span(start, end)}",
                hint=f"Remove it first with `commops orgs unenroll {other.id}`.",
            )
    removed = [e for e in existing if e.origin == "domain"]
    removed_json = [_enrollment_json(e) for e in removed]
    for e in removed:
        session.delete(e)
    enrollment = Enrollment(
        member_id=member_id,
        organization_id=organization.id,
        start_date=start,
        end_date=end,
        origin=origin,
    )
    session.add(enrollment)
    session.flush()
    changes: dict[str, Any] = {"enrollments_added": [enrollment.id]}
    if removed_json:
        changes["enrollments_removed"] = removed_json
    session.add(
        IdentityLog(
            action="enroll", actor=actor, reason=reason, created_at=utcnow(), changes=changes
        )
    )
    session.flush()
    return enrollment


def unenroll(
    session: Session, enrollment_id: int, *, actor: str, reason: str | None = None
) -> dict[str, Any]:
    """Remove a manual or imported enrollment; returns it as JSON. Enrollments derived from
    e-mail domains cannot be removed (the next ``affiliate`` would bring them back): enroll the
    member by hand instead. Logged as an ``unenroll`` entry whose changes are
    ``{"enrollments_removed": [enrollment as JSON]}``."""
    enrollment = session.get(Enrollment, enrollment_id)
    if enrollment is None:
        raise UsageError(f"no enrollment with id {enrollment_id}")
    if enrollment.origin not in MANUAL_ORIGINS:
        raise UsageError(
            f"enrollment {enrollment_id} was derived from e-mail domains (origin "
            f"{enrollment.origin!r}): the next `commops orgs affiliate` would bring it back",
            hint="Override it with a manual enrollment: `commops orgs enroll MEMBER ORG`.",
        )
    data = _enrollment_json(enrollment)
    session.delete(enrollment)
    session.add(
        IdentityLog(
            action="unenroll",
            actor=actor,
            reason=reason,
            created_at=utcnow(),
            changes={"enrollments_removed": [data]},
        )
    )
    session.flush()
    return data


# -- members by handle -------------------------------------------------------------------------


def find_member(session: Session, ref: str) -> int:
    """A member id from a member id (a number), an e-mail address (any case), a login or
    ``platform:login``. Errors when nothing matches or several members do."""
    text = ref.strip()
    if not text:
        raise UsageError("empty member reference: give a member id, an e-mail or a login")
    if text.isdigit():
        if session.get(Member, int(text)) is None:
            raise UsageError(f"no member with id {text}")
        return int(text)
    query = select(Identity.member_id, Identity.platform, Identity.value)
    if "@" in text:
        query = query.where(func.lower(Identity.value) == text.lower())
    else:
        platform, colon, login = text.partition(":")
        if colon and login:
            query = query.where(Identity.platform == platform, Identity.value == login)
        else:
            query = query.where(Identity.value == text, Identity.kind != "name")
    rows = session.execute(query).all()
    if not rows and "@" not in text:  # logins are case-insensitive on GitHub and Gitee
        platform, colon, login = text.partition(":")
        fallback = select(Identity.member_id, Identity.platform, Identity.value)
        if colon and login:
            fallback = fallback.where(
                Identity.platform == platform, func.lower(Identity.value) == login.lower()
            )
        else:
            fallback = fallback.where(
                func.lower(Identity.value) == text.lower(), Identity.kind != "name"
            )
        rows = session.execute(fallback).all()
    members = sorted({r[0] for r in rows})
    if not members:
        raise UsageError(
            f"no identity {text!r}",
            hint="Give a member id, an e-mail address, a login or platform:login "
            "(see `commops members list`).",
        )
    if len(members) > 1:
        which = ", ".join(
            f"{p}:{v} -> member {m}" for m, p, v in sorted(rows, key=lambda r: (r[1], r[2]))
        )
        raise UsageError(
            f"{text!r} is ambiguous: {which}",
            hint="Give the member id, or platform:login.",
        )
    return members[0]


# -- affiliation from e-mail domains ----------------------------------------------------------


@dataclass
class AffiliateStats:
    members: int = 0  # members looked at
    members_affiliated: int = 0  # with at least one domain enrollment afterwards
    members_manual: int = 0  # skipped: they have a manual or imported enrollment
    enrollments_added: int = 0
    enrollments_removed: int = 0
    enrollments_unchanged: int = 0
    organizations_created: list[str] = field(default_factory=list)


def _chunks(values: Sequence[int], size: int = 900) -> Iterable[Sequence[int]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _check_config(extra_domains: Mapping[str, str], providers: ProviderRules) -> dict[str, str]:
    out = {}
    for text, name in extra_domains.items():
        domain = normalize_domain(text)
        if domain is None or is_local_domain(domain):
            raise ConfigError(f"[organizations.domains] {text!r} is not an e-mail domain")
        if providers.is_public(domain):
            raise ConfigError(
                f"[organizations.domains] {domain} is a public e-mail provider: "
                "it never implies an organization",
                hint="Remove it, or enroll the people who use it with `commops orgs enroll`.",
            )
        out[domain] = _check_name(name)
    return out


Span = tuple[date | None, date | None]


def derive_spans(dated: Mapping[str, tuple[date, date] | None]) -> dict[str, Span]:
    """The enrollment spans of one member from, per organization, the first and last day of
    activity of the identities that imply it (None: identities with no activity).

    start = first day; end = last day when the member has activity under another
    organization's domain after it (they moved), else open. No activity: no dates."""
    latest = {org: span[1] for org, span in dated.items() if span is not None}
    out: dict[str, Span] = {}
    for org, span in dated.items():
        if span is None:
            out[org] = (None, None)
            continue
        first, last = span
        moved = any(other_last > last for other, other_last in latest.items() if other != org)
        out[org] = (first, last if moved else None)
    return out


def affiliate(
    session: Session,
    *,
    extra_domains: Mapping[str, str] | None = None,
    extra_public: Iterable[str] = (),
    member_ids: Iterable[int] | None = None,
) -> AffiliateStats:
    """Derive enrollments (origin ``domain``) from members' e-mail identities and the dates of
    their activities; see docs/organizations.md for the rules. Re-running gives the same
    enrollments: each member's ``domain`` enrollments are replaced by the recomputed ones
    (unchanged ones are kept as they are); manual and imported ones are never touched.
    ``extra_domains`` / ``extra_public`` are the workspace's ``[organizations]`` settings."""
    providers = ProviderRules(extra_public)
    config = _check_config(extra_domains or {}, providers)
    stats = AffiliateStats()
    orgs = {o.id: o for o in session.execute(select(Organization)).scalars()}
    by_name = {o.name.casefold(): o for o in orgs.values()}
    kinds = _seed_kinds()
    kinds.update({o.name.casefold(): o.kind for o in orgs.values()})
    # One spelling per organization: the store's, else the first layer's ("google" in
    # commops.toml is the Google of the seed list).
    spelling = {o.name.casefold(): o.name for o in orgs.values()}
    for seed_name, _kind in SEED_DOMAINS.values():
        spelling.setdefault(seed_name.casefold(), seed_name)
    for name in config.values():
        spelling.setdefault(name.casefold(), name)

    def entry(name: str) -> tuple[str, str]:
        return (spelling[name.casefold()], kinds.get(name.casefold(), "company"))

    layered = {d: entry(name) for d, (name, _kind) in SEED_DOMAINS.items()}
    for org in orgs.values():
        for d in org.domains or []:
            layered[d] = entry(org.name)
    for d, name in config.items():
        layered[d] = entry(name)
    dmap = DomainMap(layered, providers)

    scope = None if member_ids is None else sorted(set(member_ids))
    identities = [
        (r[0], r[1], r[2])
        for r in _scoped(
            session,
            select(Identity.id, Identity.member_id, Identity.value).where(Identity.kind == "email"),
            Identity.member_id,
            scope,
        )
    ]
    # One grouped query for the first and last activity of every e-mail identity.
    first_last: dict[int, tuple[datetime, datetime]] = {
        r[0]: (r[1], r[2])
        for r in _scoped(
            session,
            select(
                Activity.actor_identity_id,
                func.min(Activity.occurred_at),
                func.max(Activity.occurred_at),
            )
            .join(Identity, Identity.id == Activity.actor_identity_id)
            .where(Identity.kind == "email")
            .group_by(Activity.actor_identity_id),
            Identity.member_id,
            scope,
        )
    }
    enrollments = [
        (r[0], r[1], r[2], r[3], r[4], r[5])
        for r in _scoped(
            session,
            select(
                Enrollment.id,
                Enrollment.member_id,
                Enrollment.organization_id,
                Enrollment.start_date,
                Enrollment.end_date,
                Enrollment.origin,
            ),
            Enrollment.member_id,
            scope,
        )
    ]

    # member -> organization name -> (first, last) day of activity, None when no activity
    implied: dict[int, dict[str, tuple[date, date] | None]] = defaultdict(dict)
    org_kinds: dict[str, str] = {}
    for ident_id, member_id, value in identities:
        found = dmap.for_email(value)
        if found is None:
            continue
        name, kind = found
        org_kinds.setdefault(name, kind)
        per_member = implied[member_id]
        span = first_last.get(ident_id)
        if span is None:
            per_member.setdefault(name, None)
            continue
        first, last = span[0].date(), span[1].date()
        known = per_member.get(name)
        per_member[name] = (
            (first, last) if known is None else (min(known[0], first), max(known[1], last))
        )

    manual = {e[1] for e in enrollments if e[5] in MANUAL_ORIGINS}
    old: dict[int, dict[tuple[int, date | None, date | None], int]] = defaultdict(dict)
    for enr_id, member_id, org_id, start, end, origin in enrollments:
        if origin == "domain":
            old[member_id][(org_id, start, end)] = enr_id
    members = set(implied) | set(old) if scope is None else set(scope)

    # Organizations an e-mail implies are created on demand, with the domains the layers give
    # them that no other organization holds.
    needed = {name for m, per in implied.items() if m not in manual for name in per}
    for name in sorted(needed):
        if name.casefold() not in by_name:
            org = Organization(
                name=name, kind=org_kinds.get(name, "company"), domains=[], created_at=utcnow()
            )
            session.add(org)
            by_name[name.casefold()] = org
            stats.organizations_created.append(name)
    if stats.organizations_created:
        session.flush()
    _reconcile_domains(list(by_name.values()), layered, config, needed)

    to_delete: list[int] = []
    to_insert: list[dict[str, Any]] = []
    for member_id in sorted(members):
        stats.members += 1
        wanted: set[tuple[int, date | None, date | None]] = set()
        if member_id in manual:
            stats.members_manual += 1
        else:
            for name, (start, end) in derive_spans(implied.get(member_id, {})).items():
                wanted.add((by_name[name.casefold()].id, start, end))
        have = old.get(member_id, {})
        for key, enr_id in have.items():
            if key in wanted:
                stats.enrollments_unchanged += 1
            else:
                to_delete.append(enr_id)
        for org_id, start, end in sorted(wanted - set(have), key=lambda k: k[1] or date.min):
            to_insert.append(
                {
                    "member_id": member_id,
                    "organization_id": org_id,
                    "start_date": start,
                    "end_date": end,
                    "origin": "domain",
                }
            )
        if wanted:
            stats.members_affiliated += 1
    for chunk in _chunks(to_delete):
        session.execute(delete(Enrollment).where(Enrollment.id.in_(chunk)))
    if to_insert:
        table = cast(Table, Enrollment.__table__)
        conn = session.connection()
        if conn.dialect.name == "postgresql":
            # With RETURNING, SQLAlchemy batches rows into multi-row VALUES statements
            # ("insertmanyvalues"); a plain executemany costs a round trip per row here.
            conn.execute(insert(table).returning(table.c.id), to_insert).all()
        else:
            conn.execute(insert(table), to_insert)
    stats.enrollments_removed = len(to_delete)
    stats.enrollments_added = len(to_insert)
    session.flush()
    return stats


def _scoped(session: Session, query: Any, column: Any, scope: Sequence[int] | None) -> list[Any]:
    """The rows of ``query``, all of them or those whose ``column`` is in ``scope``."""
    # Core rows through the session's connection: no ORM row processing for 200k rows.
    conn = session.connection()
    if scope is None:
        return list(conn.execute(query))
    rows: list[Any] = []
    for chunk in _chunks(scope):
        rows += conn.execute(query.where(column.in_(chunk)))
    return rows


def _reconcile_domains(
    orgs: list[Organization],
    layered: Mapping[str, tuple[str, str]],
    config: Mapping[str, str],
    needed: set[str],
) -> None:
    """Make the domains recorded in the store agree with the layers: a domain commops.toml maps
    leaves any other organization; organizations created or used here record the domains the
    seed and commops.toml give them."""
    owner = {d: o for o in orgs for d in (o.domains or [])}
    by_name = {o.name.casefold(): o for o in orgs}
    for domain, name in config.items():
        held = owner.get(domain)
        if held is not None and held.name.casefold() != name.casefold():
            held.domains = [d for d in held.domains if d != domain]
            del owner[domain]
    wanted = {n.casefold() for n in needed} | {n.casefold() for n in config.values()}
    additions: dict[str, list[str]] = defaultdict(list)
    for domain, (name, _kind) in layered.items():
        key = name.casefold()
        if key in wanted and key in by_name and domain not in owner:
            additions[key].append(domain)
    for key, domains in additions.items():
        _record(by_name[key], domains)


# -- reading affiliations ---------------------------------------------------------------------


_ORIGIN_RANK = {"manual": 0, "import": 1, "domain": 2}


def affiliations_at(session: Session, member_ids: Iterable[int], on: date) -> dict[int, str]:
    """Each member's organization on the day ``on``; members with none are absent.

    When several enrollments cover the day: manual before imported before domain-derived,
    then the one that started last (a dated start before an undated one), then by name."""
    ids = sorted(set(member_ids))
    best: dict[int, tuple[tuple[int, int, str], str]] = {}
    query = (
        select(
            Enrollment.member_id,
            Enrollment.start_date,
            Enrollment.end_date,
            Enrollment.origin,
            Organization.name,
        )
        .join(Organization, Organization.id == Enrollment.organization_id)
        .where(
            (Enrollment.start_date.is_(None)) | (Enrollment.start_date <= on),
            (Enrollment.end_date.is_(None)) | (Enrollment.end_date >= on),
        )
    )
    for chunk in _chunks(ids):
        for member_id, start, _end, origin, name in session.execute(
            query.where(Enrollment.member_id.in_(chunk))
        ):
            rank = (
                _ORIGIN_RANK.get(origin or "", 3),
                -(start.toordinal() if start is not None else 0),
                name.casefold(),
            )
            if member_id not in best or rank < best[member_id][0]:
                best[member_id] = (rank, name)
    return {m: name for m, (_rank, name) in best.items()}
