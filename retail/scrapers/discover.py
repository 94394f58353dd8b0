"""Finding product pages and policy pages on a shop's site: links, schema.org data and sitemaps."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag
from lxml import etree

from retail.scrapers.fetch import normalise_url

# Path segments that shop platforms use for single products (WooCommerce, Shopify, Magento, eBay, ...).
_PRODUCT_PATH = re.compile(r"/(products?|p|item|itm|dp|shop/product)/[^/?#]+", re.IGNORECASE)
# Weaker hints: "-p-123", "/123-some-knife.html" style product slugs.
_PRODUCT_PATH_WEAK = re.compile(r"(-p-\d+|/\d{3,}[-_][^/]+\.html?$|\.html?$)", re.IGNORECASE)
_NOT_PRODUCT_MARKUP = re.compile(r"categor|menu|nav|breadcrumb|filter|pagination", re.IGNORECASE)
# Links that are never product pages, and the ones that would add items to a basket or log us in.
_EXCLUDED_PATH = re.compile(
    r"/(cart|basket|bag|checkout|login|log-in|logout|signin|sign-in|register|account|my-account|customer|"
    r"wishlist|compare|search|password|auth)(/|$|\.|\?)",
    re.IGNORECASE,
)
_EXCLUDED_QUERY = re.compile(r"(^|&)(add-to-cart|add_to_cart|add-to-wishlist|q|s|search)=", re.IGNORECASE)
_ASSET_SUFFIX = re.compile(
    r"\.(jpe?g|png|gif|webp|svg|ico|pdf|zip|css|js|json|xml|mp4|mp3|woff2?|ttf)$", re.IGNORECASE
)
_POLICY_PATH = re.compile(
    r"(deliver|shipping|postage|despatch|dispatch|age[-_]?(verif|check|policy|restrict)|challenge[-_]?25|"
    r"terms|t-?and-?c|conditions|knife[-_]?(law|policy|sales)|legal|faq|returns)",
    re.IGNORECASE,
)
_POLICY_TEXT = re.compile(
    r"\b(delivery|shipping|postage|despatch|dispatch)\b|\bage (verification|check|policy|restrict)|"
    r"\bterms( (and|&) conditions| of (sale|service|use))?\b|\bt ?& ?cs?\b|\bknife (law|policy|sales)\b|"
    r"\bchallenge 25\b|\bproof of age\b|\bfaqs?\b",
    re.IGNORECASE,
)


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return host.removeprefix("www.")


def is_same_site(url: str, base_url: str) -> bool:
    """True if ``url`` is on the same shop as ``base_url``: same host, ignoring ``www.``, or a subdomain.

    Without the public-suffix list this cannot know that two subdomains of one shop are related, so it
    accepts only the base host and hosts under it (shop.example.co.uk for example.co.uk).
    """
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        return False
    host, base = _host(url), _host(base_url)
    return bool(host and base) and (host == base or host.endswith("." + base))


def _clean_link(href: str | None, base_url: str) -> str | None:
    """Absolute, normalised same-site http(s) URL worth visiting, or None."""
    if not href:
        return None
    href = href.strip()
    if not href or href.startswith(("#", "mailto:", "tel:", "javascript:", "data:")):
        return None
    try:
        url = normalise_url(urljoin(base_url, href))
        parts = urlsplit(url)
    except ValueError:
        return None
    if not is_same_site(url, base_url) or parts.username or parts.password:
        return None
    if _EXCLUDED_PATH.search(parts.path + "?") or _EXCLUDED_QUERY.search(parts.query):
        return None
    if _ASSET_SUFFIX.search(parts.path):
        return None
    return url


def _walk_json(node: object) -> Iterator[dict]:
    """Every JSON object in a JSON-LD document, including those inside @graph and nested lists."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk_json(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk_json(value)


def _types(node: dict) -> set[str]:
    raw = node.get("@type", [])
    values = raw if isinstance(raw, list) else [raw]
    return {str(v).rsplit("/", 1)[-1].lower() for v in values}


def _url_of(value: object) -> str | None:
    """A URL from a JSON-LD value that may be a string, an object with url/@id, or a list of either."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("url", "@id"):
            if isinstance(value.get(key), str):
                return value[key]
    if isinstance(value, list) and value:
        return _url_of(value[0])
    return None


def _json_ld_urls(soup: BeautifulSoup) -> Iterator[str]:
    for script in soup.find_all("script", type=re.compile(r"ld\+json", re.IGNORECASE)):
        raw = script.string or script.get_text() or ""
        try:
            data = json.loads(raw.strip().rstrip(";"))
        except (ValueError, RecursionError):
            continue  # shops often ship broken JSON-LD; ignore it rather than fail the page
        for node in _walk_json(data):
            types = _types(node)
            if "product" in types or "productgroup" in types:
                for candidate in (_url_of(node.get("url")), _url_of(node.get("offers"))):
                    if candidate:
                        yield candidate
            if "itemlist" in types:
                elements = node.get("itemListElement") or []
                for element in elements if isinstance(elements, list) else [elements]:
                    if isinstance(element, dict):
                        candidate = _url_of(element.get("url")) or _url_of(element.get("item"))
                    else:
                        candidate = _url_of(element)
                    if candidate:
                        yield candidate


def _microdata_urls(soup: BeautifulSoup) -> Iterator[str]:
    for scope in soup.find_all(attrs={"itemtype": re.compile(r"schema\.org/Product\b", re.IGNORECASE)}):
        prop = scope.find(attrs={"itemprop": "url"})
        if isinstance(prop, Tag):
            value = prop.get("href") or prop.get("content")
            if isinstance(value, str):
                yield value
                continue
        link = scope.find("a", href=True)
        if isinstance(link, Tag) and isinstance(link.get("href"), str):
            yield link["href"]


def _markup_hint(link: Tag, depth: int = 4) -> bool:
    """Does the link, or a close ancestor, carry product-listing classes (li.product, div.product-card ...)?"""
    node: Tag | None = link
    for _ in range(depth):
        if node is None or not isinstance(node, Tag):
            return False
        if node.get("data-product-id") or node.get("data-product_id"):
            return True
        attrs = " ".join([*(node.get("class") or []), str(node.get("id") or "")]).lower()
        # Category widgets and menus also say "product" (WooCommerce's widget_product_categories).
        if "product" in attrs and not _NOT_PRODUCT_MARKUP.search(attrs):
            return True
        node = node.parent
    return False


def discover_product_urls(base_url: str, html: str, *, limit: int) -> list[str]:
    """Product-page links on a category or home page, best evidence first, same site only, de-duplicated.

    Scores: schema.org data (JSON-LD Product/ItemList, Product microdata) beats a product-style path
    (/product/, /products/, /p/, /item/, /itm/), which beats product-card markup around an ordinary link.
    Links with no product evidence at all are left out.
    """
    if limit <= 0 or not html:
        return []
    soup = BeautifulSoup(html, "lxml")
    scores: dict[str, int] = {}
    order: dict[str, int] = {}

    def add(href: str | None, score: int) -> None:
        url = _clean_link(href, base_url)
        if url is None or urlsplit(url).path in ("", "/"):
            return
        order.setdefault(url, len(order))
        scores[url] = max(scores.get(url, 0), score)

    for href in _json_ld_urls(soup):
        add(href, 100)
    for href in _microdata_urls(soup):
        add(href, 90)
    for link in soup.find_all("a", href=True):
        href = link.get("href")
        if not isinstance(href, str):
            continue
        path = urlsplit(urljoin(base_url, href.strip())).path
        score = 0
        if _PRODUCT_PATH.search(path):
            score += 50
        elif _PRODUCT_PATH_WEAK.search(path):
            score += 10
        if _markup_hint(link):
            score += 30
        if score >= 30:  # a bare ".html" with no product markup is not enough
            add(href, score)

    ranked = sorted(scores, key=lambda url: (-scores[url], order[url]))
    return ranked[:limit]


def looks_like_policy_page(url: str, text: str | None = None) -> bool:
    """Is this a delivery, shipping, age-verification or terms page? ``text`` is its link text or title.

    Pass a short string (anchor text, <title> or <h1>), not the whole page: nearly every page mentions
    "delivery" or "terms" somewhere in its footer.
    """
    path = urlsplit(url).path
    if _POLICY_PATH.search(path):
        return True
    return bool(text) and bool(_POLICY_TEXT.search(" ".join(text.split())[:200]))


def discover_policy_urls(base_url: str, html: str, *, limit: int = 10) -> list[str]:
    """Same-site links that look like delivery/age/terms policy pages, in page order."""
    if limit <= 0 or not html:
        return []
    soup = BeautifulSoup(html, "lxml")
    found: list[str] = []
    for link in soup.find_all("a", href=True):
        href = link.get("href")
        url = _clean_link(href if isinstance(href, str) else None, base_url)
        if url and url not in found and looks_like_policy_page(url, link.get_text(" ", strip=True)):
            found.append(url)
            if len(found) >= limit:
                break
    return found


_LOC = re.compile(r"<(?:\w+:)?loc>\s*(.*?)\s*</(?:\w+:)?loc>", re.IGNORECASE | re.DOTALL)


def parse_sitemap(xml_text: str, base_url: str) -> tuple[list[str], list[str]]:
    """Parse a sitemap (urlset), sitemap index, or plain-text sitemap. Returns (page urls, child sitemap urls).

    Namespaces are ignored, broken XML is recovered where possible (with a regex fallback), entities are
    never expanded, and only same-site http(s) URLs are kept, normalised and de-duplicated.
    """
    pages: list[str] = []
    children: list[str] = []
    text = (xml_text or "").lstrip("\ufeff \t\r\n")
    if not text:
        return pages, children

    def keep(raw: str | None, into: list[str]) -> None:
        if not raw:
            return
        raw = raw.strip()
        if not raw.lower().startswith(("http://", "https://")):
            return
        try:
            url = normalise_url(raw)
        except ValueError:
            return
        if is_same_site(url, base_url) and url not in into:
            into.append(url)

    if not text.startswith("<"):
        # Plain-text sitemap: one URL per line.
        for line in text.splitlines():
            keep(line, pages)
        return pages, children

    parser = etree.XMLParser(
        recover=True, resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True
    )
    try:
        root = etree.fromstring(text.encode("utf-8", errors="replace"), parser)
    except (etree.XMLSyntaxError, ValueError):
        root = None
    if root is not None:
        root_name = etree.QName(root).localname.lower() if isinstance(root.tag, str) else ""
        for entry in root:
            if not isinstance(entry.tag, str):
                continue
            name = etree.QName(entry).localname.lower()
            for child in entry:
                if isinstance(child.tag, str) and etree.QName(child).localname.lower() == "loc":
                    if name == "sitemap" or root_name == "sitemapindex":
                        keep(child.text, children)
                    elif name == "url":
                        keep(child.text, pages)
        if pages or children:
            return pages, children
    # Recovery failed or found nothing: salvage <loc> values, guessing the kind from the root element.
    is_index = bool(re.search(r"<(?:\w+:)?sitemapindex\b", text[:2000], re.IGNORECASE))
    for match in _LOC.finditer(text):
        keep(unescape(match.group(1)), children if is_index else pages)
    return pages, children
