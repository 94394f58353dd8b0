"""Tests for finding product pages, policy pages and sitemap entries on a shop's site."""

from __future__ import annotations

import json

import pytest

from retail.scrapers.discover import (
    discover_policy_urls,
    discover_product_urls,
    is_same_site,
    looks_like_policy_page,
    parse_sitemap,
)

BASE = "https://www.knifeshop.co.uk/collections/kitchen"


def page(body: str, head: str = "") -> str:
    return f"<html><head>{head}</head><body>{body}</body></html>"


def ld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


# --------------------------------------------------------------------------- is_same_site


@pytest.mark.parametrize(
    ("url", "same"),
    [
        ("https://www.knifeshop.co.uk/p/1", True),
        ("http://knifeshop.co.uk/p/1", True),  # scheme and www. do not matter
        ("https://shop.knifeshop.co.uk/p/1", True),  # subdomain of the shop
        ("https://KNIFESHOP.co.uk./p/1", True),
        ("https://knifeshop.co.uk.evil.example/p/1", False),
        ("https://notknifeshop.co.uk/p/1", False),
        ("https://evil.example/?u=knifeshop.co.uk", False),
        ("mailto:sales@knifeshop.co.uk", False),
        ("ftp://knifeshop.co.uk/file", False),
    ],
)
def test_is_same_site(url: str, same: bool) -> None:
    assert is_same_site(url, BASE) is same


# --------------------------------------------------------------------------- discover_product_urls


def test_product_paths_found_and_junk_excluded() -> None:
    html = page(
        """
        <nav class="main-menu"><a href="/collections/axes">Axes</a></nav>
        <a href="/product/santoku">Santoku</a>
        <a href="/products/chef-knife">Chef</a>
        <a href="/p/12345">Short style</a>
        <a href="/item/bread-knife">Item</a>
        <a href="/itm/998877">Auction style</a>
        <a href="/cart">Basket</a>
        <a href="/account/login">Log in</a>
        <a href="/checkout">Checkout</a>
        <a href="/search?q=knife">Search</a>
        <a href="/products/chef-knife?add-to-cart=5">Add to basket</a>
        <a href="https://other-shop.example/products/x">Elsewhere</a>
        <a href="mailto:sales@knifeshop.co.uk">Email</a>
        <a href="javascript:void(0)">JS</a>
        <a href="#top">Top</a>
        <a href="/images/products/knife.jpg">Picture</a>
        <a href="/about-us">About</a>
        """
    )
    found = discover_product_urls(BASE, html, limit=50)
    assert found == [
        "https://www.knifeshop.co.uk/product/santoku",
        "https://www.knifeshop.co.uk/products/chef-knife",
        "https://www.knifeshop.co.uk/p/12345",
        "https://www.knifeshop.co.uk/item/bread-knife",
        "https://www.knifeshop.co.uk/itm/998877",
    ]


def test_dedupes_drops_fragments_keeps_query() -> None:
    html = page(
        """
        <a href="/product/santoku#reviews">Reviews</a>
        <a href="/product/santoku">Santoku</a>
        <a href="HTTPS://WWW.KNIFESHOP.CO.UK:443/product/santoku">Again</a>
        <a href="/product/santoku?variant=2">Variant</a>
        """
    )
    assert discover_product_urls(BASE, html, limit=10) == [
        "https://www.knifeshop.co.uk/product/santoku",
        "https://www.knifeshop.co.uk/product/santoku?variant=2",
    ]


def test_json_ld_product_and_item_list_rank_first() -> None:
    head = (
        ld(
            {
                "@context": "https://schema.org",
                "@type": "ItemList",
                "itemListElement": [
                    {"@type": "ListItem", "position": 1, "url": "https://www.knifeshop.co.uk/chef-knife-20cm"},
                    {"@type": "ListItem", "position": 2, "item": {"@id": "/paring-knife"}},
                    {"@type": "ListItem", "position": 3, "url": "https://elsewhere.example/x"},
                ],
            }
        )
        + ld({"@graph": [{"@type": "Product", "name": "Axe", "offers": {"@type": "Offer", "url": "/camp-axe"}}]})
        + ld([{"@type": ["Product"], "url": "/machete-18in"}])
        + '<script type="application/ld+json">{ this is not json </script>'
    )
    html = page('<a href="/product/santoku">Santoku</a>', head)
    found = discover_product_urls(BASE, html, limit=10)
    assert found[:4] == [
        "https://www.knifeshop.co.uk/chef-knife-20cm",
        "https://www.knifeshop.co.uk/paring-knife",
        "https://www.knifeshop.co.uk/camp-axe",
        "https://www.knifeshop.co.uk/machete-18in",
    ]
    assert found[4:] == ["https://www.knifeshop.co.uk/product/santoku"]


def test_microdata_and_product_card_markup() -> None:
    html = page(
        """
        <div itemscope itemtype="https://schema.org/Product">
          <a itemprop="url" href="/hunting-knife.html">Hunting knife</a>
        </div>
        <div itemscope itemtype="http://schema.org/Product"><h2><a href="/folding-knife">Folding</a></h2></div>
        <ul class="products"><li class="product type-product"><a href="/slicer-99.html">Slicer</a></li></ul>
        <div class="widget_product_categories"><a href="/kitchen-knives.html">Kitchen knives</a></div>
        <a href="/plain-page.html">A page that is just .html</a>
        """
    )
    found = discover_product_urls(BASE, html, limit=10)
    assert found == [
        "https://www.knifeshop.co.uk/hunting-knife.html",
        "https://www.knifeshop.co.uk/folding-knife",
        "https://www.knifeshop.co.uk/slicer-99.html",
    ]


def test_limit_and_empty_input() -> None:
    html = page("".join(f'<a href="/product/k{i}">K{i}</a>' for i in range(30)))
    assert len(discover_product_urls(BASE, html, limit=5)) == 5
    assert discover_product_urls(BASE, html, limit=0) == []
    assert discover_product_urls(BASE, "", limit=5) == []
    assert discover_product_urls(BASE, "<<<not html at all", limit=5) == []


# --------------------------------------------------------------------------- policy pages


@pytest.mark.parametrize(
    ("url", "text", "expected"),
    [
        ("https://shop.example/delivery-information", None, True),
        ("https://shop.example/pages/shipping-policy", None, True),
        ("https://shop.example/age-verification", None, True),
        ("https://shop.example/terms-and-conditions", None, True),
        ("https://shop.example/pages/knife-law", None, True),
        ("https://shop.example/info/12", "Delivery & Returns", True),
        ("https://shop.example/info/13", "Terms and Conditions", True),
        ("https://shop.example/info/14", "How we check your age (Challenge 25)", True),
        ("https://shop.example/product/chef-knife", "Chef knife 20cm", False),
        ("https://shop.example/info/15", "About us", False),
        ("https://shop.example/info/16", None, False),
    ],
)
def test_looks_like_policy_page(url: str, text: str | None, expected: bool) -> None:
    assert looks_like_policy_page(url, text) is expected


def test_discover_policy_urls() -> None:
    html = page(
        """
        <a href="/delivery-information">Delivery</a>
        <a href="/info/12">Terms &amp; Conditions</a>
        <a href="/delivery-information#uk">Delivery again</a>
        <a href="https://elsewhere.example/terms">Their terms</a>
        <a href="/product/santoku">Santoku</a>
        """
    )
    assert discover_policy_urls(BASE, html) == [
        "https://www.knifeshop.co.uk/delivery-information",
        "https://www.knifeshop.co.uk/info/12",
    ]


# --------------------------------------------------------------------------- sitemaps


def test_parse_urlset_with_namespace() -> None:
    xml = """<?xml version="1.0" encoding="UTF-8"?>
    <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
            xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
      <url><loc>https://www.knifeshop.co.uk/product/santoku</loc><lastmod>2025-01-01</lastmod>
        <image:image><image:loc>https://cdn.knifeshop.co.uk/santoku.jpg</image:loc></image:image></url>
      <url><loc> https://www.knifeshop.co.uk/product/chef?size=20&amp;x=1#frag </loc></url>
      <url><loc>https://www.knifeshop.co.uk/product/santoku</loc></url>
      <url><loc>https://elsewhere.example/product/x</loc></url>
      <url><loc>javascript:alert(1)</loc></url>
    </urlset>"""
    pages, children = parse_sitemap(xml, "https://www.knifeshop.co.uk/sitemap.xml")
    assert pages == [
        "https://www.knifeshop.co.uk/product/santoku",
        "https://www.knifeshop.co.uk/product/chef?size=20&x=1",
    ]
    assert children == []


def test_parse_sitemap_index() -> None:
    xml = """<?xml version="1.0" encoding="UTF-8"?>
    <sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>https://www.knifeshop.co.uk/sitemap_products_1.xml?from=1&amp;to=99</loc></sitemap>
      <sitemap><loc>https://www.knifeshop.co.uk/sitemap_pages_1.xml</loc></sitemap>
    </sitemapindex>"""
    pages, children = parse_sitemap(xml, "https://knifeshop.co.uk/")
    assert pages == []
    assert children == [
        "https://www.knifeshop.co.uk/sitemap_products_1.xml?from=1&to=99",
        "https://www.knifeshop.co.uk/sitemap_pages_1.xml",
    ]


def test_parse_sitemap_tolerates_junk() -> None:
    broken = (
        "<urlset><url><loc>https://www.knifeshop.co.uk/p/1</loc></url>"
        "<url><loc>https://www.knifeshop.co.uk/p/2</loc><junk></url> trailing rubbish <<<"
    )
    pages, _ = parse_sitemap(broken, BASE)
    assert pages[:2] == ["https://www.knifeshop.co.uk/p/1", "https://www.knifeshop.co.uk/p/2"]
    assert parse_sitemap("", BASE) == ([], [])
    assert parse_sitemap("<html><body>Not found</body></html>", BASE) == ([], [])
    assert parse_sitemap("\x00\x01 binary junk", BASE) == ([], [])


def test_parse_sitemap_does_not_expand_entities() -> None:
    xml = """<?xml version="1.0"?>
    <!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY a "aaaaaaaaaa">
      <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
    <urlset><url><loc>https://www.knifeshop.co.uk/p/&xxe;</loc></url>
      <url><loc>https://www.knifeshop.co.uk/p/&b;</loc></url>
      <url><loc>https://www.knifeshop.co.uk/p/ok</loc></url></urlset>"""
    pages, _ = parse_sitemap(xml, BASE)
    assert "https://www.knifeshop.co.uk/p/ok" in pages
    assert not any("root:" in p or "aaaaaaaaaa" in p for p in pages)


def test_parse_plain_text_sitemap() -> None:
    text = "https://www.knifeshop.co.uk/p/1\n\nhttps://www.knifeshop.co.uk/p/2\nnot a url\nhttps://elsewhere.example/p/3\n"
    assert parse_sitemap(text, BASE) == (
        ["https://www.knifeshop.co.uk/p/1", "https://www.knifeshop.co.uk/p/2"],
        [],
    )
