"""A local test site of ordinary shop pages for the listing monitor (issue 13): each shop is a `Site` of its own on
127.0.0.1, with what the monitor must conclude about it. Pages are written the way small shops build them: a heading,
a description, a price and a "Buy" button, often with no basket form and no structured data.
"""
from __future__ import annotations

from tests.monitor_site import Site


def _page(title: str, body: str, *, head: str = "") -> str:
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>{head}</head>
<body><header class="site-header"><a href="/">Home</a> <nav class="main-nav"><a href="/knives">Knives</a>
<a href="/delivery">Delivery</a> <a href="/about">About us</a></nav></header>
<main>{body}</main>
<footer class="site-footer"><p>&copy; 2026. Registered in England and Wales.</p>
<a href="/delivery">Delivery &amp; returns</a></footer></body></html>"""


def _home(title: str, links: list[tuple[str, str]]) -> str:
    items = "".join(f'<div class="product-card"><a href="{href}">{name}</a></div>' for href, name in links)
    return _page(title, f"<h1>{title}</h1><div class=\"products\">{items}</div>")


# 1. Buy button and price only: no basket form, no structured data, no platform markup.
def plain_shop(site: Site) -> None:
    site.set("/", _home("Hartley Cutlery", [("/product/chef-knife", "Chef knife"),
                                            ("/product/santoku", "Santoku knife")]))
    site.set("/product/chef-knife", _page("Sheffield Chef Knife 20cm | Hartley Cutlery", """
<h1>Sheffield Chef Knife 20cm</h1>
<p>Hand-finished in Sheffield from German stainless steel, with a riveted walnut handle.</p>
<p class="cost">£35</p><a class="btn" href="/order?item=chef-20">Buy £35</a>"""))
    # A Buy button and no price at all.
    site.set("/product/santoku", _page("Santoku knife | Hartley Cutlery", """
<h1>Santoku knife 17cm</h1><p>Granton edge santoku for vegetables, fish and meat.</p>
<button type="button" onclick="orderForm('santoku')">Buy</button>"""))
    site.set("/delivery", _page("Delivery | Hartley Cutlery", """<h1>Delivery</h1>
<p>We ask for photographic ID when you buy, and the driver checks it again on delivery: your knife is handed only
to the person named on the order, never left with a neighbour.</p>"""))


# 2. Platform markup (Shopify and WooCommerce themes) with a self-declaration only.
def platform_shop(site: Site) -> None:
    site.set("/", _home("Edge &amp; Co", [("/products/paring-knife", "Paring knife"),
                                         ("/product/bread-knife", "Bread knife")]))
    site.set("/products/paring-knife", _page("Paring Knife 9cm – Edge &amp; Co", """
<div class="product__info-wrapper"><h1 class="product__title">Paring Knife 9cm</h1>
<div class="price__regular"><span class="price-item">£18</span></div>
<form method="post" action="/cart/add" class="product-form__form"><input type="hidden" name="id" value="4411">
<button type="submit" name="add" class="product-form__submit">Add to cart</button></form>
<p>By ordering you confirm that you are 18 or over.</p></div>""", head='<link rel="stylesheet" '
        'href="//cdn.shopify.com/s/files/1/theme.css">'))
    site.set("/product/bread-knife", _page("Bread knife – Edge &amp; Co", """
<div class="summary entry-summary"><h1 class="product_title entry-title">Bread knife 23cm</h1>
<p class="price"><span class="woocommerce-Price-amount amount">£22</span></p>
<form class="cart"><button type="submit" class="single_add_to_cart_button button alt">Add to basket</button></form>
<p>You must be 18 or over to buy knives.</p></div>"""))


# 3. Prohibited items: a zombie knife and a butterfly knife, sold with a strong age check all the same.
def prohibited_shop(site: Site) -> None:
    site.set("/", _home("Outland Blades", [("/product/zombie-hunter", "Zombie Hunter"),
                                            ("/product/balisong", "Balisong")]))
    site.set("/product/zombie-hunter", _page("Zombie Hunter 16in | Outland Blades", """
<h1>Zombie Hunter 16in</h1><p>Green zombie knife with serrated spine, spikes and a bio-hazard etched blade.</p>
<p>£35</p><a class="button" href="/checkout/zh16">Buy £35</a>"""))
    site.set("/product/balisong", _page("Stainless Butterfly Knife | Outland Blades", """
<h1>Stainless Butterfly Knife</h1><p>Channel-construction butterfly knife, smooth flipping action.</p>
<p>£24.99</p><button class="buy">Buy now</button>"""))
    site.set("/delivery", _page("Age verification | Outland Blades", """<h1>Age verification</h1>
<p>We use Yoti to verify your age before any order is accepted.</p>"""))


# 4. Trainers only: blunt practice versions, no live blade.
def trainer_shop(site: Site) -> None:
    site.set("/", _home("Flip Trainers", [("/product/balisong-trainer", "Balisong trainer")]))
    site.set("/product/balisong-trainer", _page("Balisong trainer | Flip Trainers", """
<h1>Balisong trainer, blunt aluminium</h1><p>Butterfly knife trainer with an unsharpened practice blade: learn to
flip safely. Ships in 2 days.</p><p class="price">£12.00</p><button>Add to basket</button>"""))


# 5. A category page: product tiles with prices and basket buttons, linking to product pages; no age wording.
def category_shop(site: Site) -> None:
    tiles = "".join(f"""<li class="product-tile"><a href="/p/{slug}"><h3>{name}</h3></a><span>£{price}</span>
<button class="add">Add to basket</button></li>""" for slug, name, price in (
        ("opinel-8", "Opinel No.8 folding knife", "14.95"), ("kukri", "Gurkha kukri machete", "42.00"),
        ("cleaver", "Chinese cleaver", "27.50")))
    site.set("/", _page("Knives | Cross Street Hardware", f"<h1>Knives</h1><p>3 products</p><ul>{tiles}</ul>"))
    for slug, name, price in (("opinel-8", "Opinel No.8 folding knife", "14.95"),
                              ("kukri", "Gurkha kukri machete", "42.00"), ("cleaver", "Chinese cleaver", "27.50")):
        site.set(f"/p/{slug}", _page(f"{name} | Cross Street Hardware", f"""<h1>{name}</h1>
<p>£{price}</p><p>In stock</p><button>Add to basket</button>"""))


# 6. A news site: an article about zombie knives and a page about the law. Nothing is for sale.
def news_site(site: Site) -> None:
    site.set("/", _home("Borough Gazette", [("/news/zombie-knife-ban", "Zombie knife ban")]))
    site.set("/news/zombie-knife-ban", _page("Zombie knife ban explained | Borough Gazette", """
<article><h1>Zombie knife ban: what you need to know</h1><p class="byline">Published by our crime reporter</p>
<p>Police said the zombie knife and machete ban came into force in September 2024. Shops must not sell knives
to under-18s, and must be 18 or over to buy, according to the Home Office.</p><p>Share this article</p>
</article>"""))


SHOPS = {
    # name: (builder, expected age_check, bladed listings, prohibited)
    "plain": (plain_shop, "strong", 2, []),
    "platform": (platform_shop, "weak", 2, []),
    "prohibited": (prohibited_shop, "strong", 2, ["butterfly knife", "zombie knife"]),
    "trainer": (trainer_shop, None, 0, []),
    "category": (category_shop, "none", 3, []),
    "news": (news_site, None, 0, []),
}
