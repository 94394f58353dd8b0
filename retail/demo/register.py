"""Demo register: the authorities, businesses, shops (each in the area of its authority), online stores, RRA
signatures and the demo users."""
from datetime import timedelta

import click

from ..boroughs import LONDON_BOROUGHS
from ..models.register import (Business, OnlineStore, Premises, RraSignature, RraStatusEvent, premises_sells,
                               rra_signature_premises, RRA_COMMITMENTS, name_key)
from ..timeutil import utcnow
from . import DemoContext, bulk_insert, generator, next_id
from .organisations import DEMO_BOROUGHS, create_users, outside_code, prepare_authorities

# Postcode districts per borough (a realistic subset), so postcodes and boroughs agree.
DISTRICTS = {
    "enfield": ["EN1", "EN2", "EN3", "N9", "N18", "N21"], "harrow": ["HA1", "HA2", "HA3", "HA5"],
    "barnet": ["N3", "N12", "NW4", "NW9", "EN5"], "haringey": ["N8", "N15", "N17", "N22"],
    "waltham-forest": ["E4", "E10", "E11", "E17"], "hillingdon": ["UB3", "UB8", "UB10", "HA4"],
    "ealing": ["W5", "W7", "W13", "UB1", "UB2"], "brent": ["NW2", "NW10", "HA0", "HA9"],
    "camden": ["NW1", "NW3", "NW5", "WC1H"], "islington": ["N1", "N4", "N5", "N7", "N19"],
    "hackney": ["E2", "E5", "E8", "E9", "N16"], "redbridge": ["IG1", "IG2", "IG4", "IG6"],
    "havering": ["RM1", "RM3", "RM7", "RM11"], "hounslow": ["TW3", "TW4", "TW7", "W4"],
    "hammersmith-fulham": ["W6", "W12", "W14", "SW6"], "kensington-chelsea": ["W8", "W10", "W11", "SW3", "SW5"],
    "westminster": ["W1D", "W1F", "W2", "SW1V", "NW8"], "city-of-london": ["EC2V", "EC3A", "EC4M"],
    "tower-hamlets": ["E1", "E3", "E14"], "newham": ["E6", "E7", "E12", "E13", "E15", "E16"],
    "barking-dagenham": ["IG11", "RM8", "RM9", "RM10"], "richmond": ["TW1", "TW9", "TW10", "SW14"],
    "wandsworth": ["SW11", "SW12", "SW15", "SW17", "SW18"], "lambeth": ["SE11", "SW2", "SW4", "SW9", "SE27"],
    "southwark": ["SE1", "SE5", "SE15", "SE16", "SE22"], "lewisham": ["SE4", "SE6", "SE13", "SE14", "SE23"],
    "greenwich": ["SE2", "SE7", "SE9", "SE10", "SE18"], "bexley": ["DA5", "DA6", "DA7", "DA15"],
    "kingston": ["KT1", "KT2", "KT3", "KT6"], "merton": ["SW19", "SW20", "CR4", "SM4"],
    "croydon": ["CR0", "CR2", "CR7", "SE25"], "bromley": ["BR1", "BR2", "BR3", "BR6"],
    "sutton": ["SM1", "SM2", "SM3", "SM5"],
}
# Local authorities outside London with matching postcode areas, for the UK-scale dataset.
OUTSIDE = [("Manchester", "M"), ("Birmingham", "B"), ("Leeds", "LS"), ("Liverpool", "L"), ("Bristol", "BS"),
           ("Sheffield", "S"), ("Newcastle upon Tyne", "NE"), ("Nottingham", "NG"), ("Leicester", "LE"),
           ("Cardiff", "CF"), ("Glasgow", "G"), ("Edinburgh", "EH"), ("Coventry", "CV"), ("Bradford", "BD"),
           ("Southampton", "SO"), ("Portsmouth", "PO"), ("Brighton and Hove", "BN"), ("Plymouth", "PL"),
           ("Reading", "RG"), ("Luton", "LU"), ("Derby", "DE"), ("Wolverhampton", "WV"), ("Stoke-on-Trent", "ST"),
           ("Swansea", "SA"), ("Preston", "PR"), ("Norwich", "NR"), ("Oxford", "OX"), ("Cambridge", "CB"),
           ("Lancashire", "BB"), ("Kent", "ME"), ("Essex", "CM"), ("Surrey", "GU"), ("Hertfordshire", "AL")]
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
# Streets found in most places, and named streets only where they are (postcode district), so no address sits in
# the wrong part of London ("Rye Lane, CR0").
STREETS = ["High Street", "Broadway", "Market Street", "Station Road", "Church Road", "London Road", "The Parade",
           "Victoria Road", "King Street", "Park Road", "Mill Lane", "The Broadway", "Queens Parade"]
LOCAL_STREETS = {"E8": ["Mare Street", "Kingsland Road"], "SE15": ["Rye Lane"], "SW9": ["Brixton Road"],
                 "N7": ["Holloway Road"], "N8": ["Green Lanes"], "N15": ["Seven Sisters Road"], "E7": ["Romford Road"],
                 "E10": ["Lea Bridge Road"], "E1": ["Commercial Road", "Whitechapel Road"],
                 "SW17": ["Tooting High Street"], "SE4": ["Lewisham Way"], "E17": ["Hoe Street"],
                 "W13": ["Uxbridge Road"], "CR0": ["North End"], "W2": ["Edgware Road"]}


def street_for(rng, postcode: str) -> str:
    local = LOCAL_STREETS.get(postcode.split(" ")[0])
    return rng.choice(local) if local and rng.random() < 0.4 else rng.choice(STREETS)


FIRST = ["Patel", "Khan", "Smith", "Ahmed", "Jones", "Singh", "Brown", "Ali", "Taylor", "Shah", "Wilson", "Hussain",
         "Okafor", "Nowak", "Kaya", "Murphy", "Evans", "Begum", "Chen", "Costa", "Mensah", "Demir", "Rahman", "Wright"]
KINDS = [("Hardware", ["kitchen", "craft", "garden", "multi-tool"]), ("DIY", ["craft", "garden", "multi-tool"]),
         ("Cookshop", ["kitchen"]), ("Homeware", ["kitchen", "craft"]), ("Convenience Store", ["kitchen", "razors"]),
         ("Pound Shop", ["kitchen", "craft", "razors"]), ("Outdoor & Camping", ["folding", "multi-tool", "garden"]),
         ("Garden Centre", ["garden", "craft"]), ("Barber Supplies", ["razors"]), ("Cutlers", ["kitchen", "folding"]),
         ("Martial Arts Supplies", ["swords", "other"]), ("Catering Supplies", ["kitchen"]),
         ("Mini Market", ["kitchen", "razors"]), ("Tool Centre", ["craft", "multi-tool", "garden"])]
CHAINS = ["Hartley Homeware", "Brightside Hardware", "Kettering & Co Cookshops", "ValueMart",
          "Greenleaf Garden Centres",
          "Northgate DIY", "Cornerstone Stores", "The Kitchen Drawer", "Pennywise Discount", "Urban Tools"]
NATIONAL = ["Marlowe Supermarkets", "Fenwick & Daughters", "Thrift Price Stores", "Homestead Superstores",
            "Oakwood Department Stores"]
ONLINE_WORDS = ["Blade", "Edge", "Steel", "Forge", "Outdoor", "Camp", "Kitchen", "Chef", "Bushcraft", "Tactical"]
DISPLAYS = ["locked-cabinet", "behind-counter", "open-shelf"]


def _postcode(rng, district: str) -> str:
    return f"{district} {rng.randint(1, 9)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"


def _place(ctx: DemoContext):
    """(borough, local authority outside London, town, postcode, code of the authority whose area it is)."""
    rng = ctx.rng
    if rng.random() < ctx.params["outside_share"]:
        authority, area = rng.choice(OUTSIDE)
        return ("outside", authority, authority.split(" ")[0], _postcode(rng, f"{area}{rng.randint(1, 20)}"),
                outside_code(authority))
    # The demo boroughs get more shops in the mix, so each has a register of its own to work on.
    if rng.random() < ctx.params.get("demo_share", 0.0):
        borough = rng.choice(DEMO_BOROUGHS)
    else:
        borough = rng.choice(LONDON_BOROUGHS).code
    return borough, "", "London", _postcode(rng, rng.choice(DISTRICTS[borough])), borough


@generator
def generate_register(ctx: DemoContext) -> None:
    rng, now = ctx.rng, utcnow()
    prepare_authorities(ctx, [name for name, _area in OUTSIDE] if ctx.params["outside_share"] else [])
    authorities = ctx.authorities
    target_premises = ctx.params["premises"]
    business_rows, premises_rows, sells_rows = [], [], []
    business_id = next_id(Business.__table__)
    premises_id = next_id(Premises.__table__)
    used_refs = 0

    def add_business(legal, trading, btype, company=None):
        nonlocal business_id, used_refs
        used_refs += 1
        row = dict(id=business_id, legal_name=legal, legal_name_key=name_key(legal), trading_name=trading,
                   trading_name_key=name_key(trading), other_trading_names="", company_number=company,
                   business_type=btype, head_office_address="", head_office_postcode=None,
                   contact_name=f"{rng.choice('ABCDEFGHJKLMNPRS')}. {rng.choice(FIRST)}",
                   contact_email=f"owner{business_id}@example.com",
                   contact_phone=f"020 7946 {rng.randint(0, 9999):04d}",
                   primary_authority="", primary_authority_id=None, external_ref=f"TS-{used_refs:06d}", notes="",
                   created_at=now, updated_at=now,
                   version=1)
        business_rows.append(row)
        business_id += 1
        return row

    def add_premises(business, name, kind_sells):
        nonlocal premises_id
        borough, authority, town, postcode, owner = _place(ctx)
        # Bulk inserts skip the hook that sets a shop's authority from its borough.
        row = dict(id=premises_id, business_id=business["id"], name=name, name_key=name_key(name),
                   address_line1=f"{rng.randint(1, 420)} {street_for(rng, postcode)}", address_line2="", town=town,
                   postcode=postcode, postcode_key=postcode.replace(" ", ""), borough=borough,
                   authority_id=authorities.get(owner), local_authority=authority, display=rng.choice(DISPLAYS),
                   status="closed" if rng.random() < 0.03 else "trading", created_at=now, updated_at=now, version=1)
        premises_rows.append(row)
        for category in kind_sells:
            sells_rows.append({"premises_id": premises_id, "category": category})
        # A council reference is the council's own: the authority of the business's first shop gave it.
        business.setdefault("ref_authority_id", authorities.get(owner))
        ctx.premises.append({"id": premises_id, "business_id": business["id"], "borough": borough,
                             "authority": owner, "business_type": business["business_type"],
                             "status": row["status"]})
        premises_id += 1
        return row

    # Chains and national-agreement signatories: a few businesses with many shops.
    chain_share = 0.12 if ctx.scale != "small" else 0.15
    chain_premises = int(target_premises * chain_share)
    big = [(n, "multiple") for n in CHAINS] + [(n, "national-agreement") for n in NATIONAL]
    big = big[:max(3, min(len(big), chain_premises // 3))]  # at small scale, a few chains with several shops
    for index, (name, btype) in enumerate(big):
        business = add_business(f"{name} Ltd", name, btype, f"{rng.randint(1000000, 9999999):08d}")
        # Primary Authority partners: London councils are in the authority register (linked, so officers are
        # prompted before formal action); others are recorded by name.
        partner_code, partner_name = rng.choice([("westminster", "Westminster City Council"),
                                                 ("croydon", "London Borough of Croydon"),
                                                 ("", "Kent County Council"), ("", "Birmingham City Council")])
        business["primary_authority"] = partner_name
        business["primary_authority_id"] = authorities.get(partner_code)
        shops = max(1, chain_premises // len(big))
        kind, sells = KINDS[index % len(KINDS)]
        for n in range(shops):
            add_premises(business, f"{name} {n + 1}", sells)
    # Independents: mostly one shop, some two.
    with ctx.progress(length=target_premises, label="Businesses and shops") as bar:
        bar.update(len(premises_rows))
        while len(premises_rows) < target_premises:
            kind, sells = rng.choice(KINDS)
            owner = rng.choice(FIRST)
            trading = f"{owner}'s {kind}" if rng.random() < 0.6 else f"{rng.choice(STREETS).split()[0]} {kind}"
            business = add_business(f"{owner} {kind} Ltd" if rng.random() < 0.5 else f"{trading} ({owner})",
                                    trading, "independent")
            for n in range(2 if rng.random() < 0.08 else 1):
                categories = rng.sample(sells, k=max(1, len(sells) - rng.randint(0, 1)))
                add_premises(business, trading if n == 0 else f"{trading} (branch)", categories)
                bar.update(1)
    # Online-only sellers and marketplace sellers.
    store_rows = []
    store_id = next_id(OnlineStore.__table__)
    n_stores = ctx.params["stores"]
    for n in range(n_stores):
        word = rng.choice(ONLINE_WORDS)
        marketplace = n % 3 == 2
        trading = f"{word} {rng.choice(['Direct', 'Supplies', 'World', 'Depot', 'UK', 'Co'])} {n + 1}"
        business = add_business(f"{trading} Ltd", trading, "marketplace-seller" if marketplace else "online-only")
        if ctx.scale == "small":
            # The demo shop site (`flask demo-shop`) serves these stores on this machine.
            base = f"http://127.0.0.1:5050/shops/shop{n + 1}/"
            platform, seller = "own-website", ""
        elif marketplace:
            base = f"https://marketplace.example/sellers/{name_key(trading).replace(' ', '-')}"
            platform, seller = "other-marketplace", f"seller-{n + 1}"
        else:
            base = f"https://{name_key(trading).replace(' ', '')}.example/"
            platform, seller = "own-website", ""
        store_rows.append(dict(id=store_id, business_id=business["id"], name=trading, base_url=base,
                               domain=base.split("/")[2], platform=platform, seller_id=seller, created_at=now,
                               updated_at=now, version=1))
        ctx.store_ids.append(store_id)
        store_id += 1

    for n, business in enumerate(b for b in business_rows if "ref_authority_id" not in b):
        # Online-only sellers: registered by one of the demo boroughs in turn.
        business["ref_authority_id"] = authorities[DEMO_BOROUGHS[n % len(DEMO_BOROUGHS)]]
    click.echo(f"Writing {len(business_rows)} businesses, {len(premises_rows)} shops, {len(store_rows)} online stores")
    bulk_insert(Business.__table__, business_rows)
    bulk_insert(Premises.__table__, premises_rows)
    bulk_insert(premises_sells, sells_rows)
    bulk_insert(OnlineStore.__table__, store_rows)
    ctx.business_ids = [b["id"] for b in business_rows]
    _generate_rra(ctx, business_rows, now)
    create_users(ctx)


def _generate_rra(ctx: DemoContext, businesses: list[dict], now) -> None:
    rng = ctx.rng
    by_business: dict[int, list[dict]] = {}
    for p in ctx.premises:
        by_business.setdefault(p["business_id"], []).append(p)
    signature_rows, link_rows, event_rows = [], [], []
    signature_id = next_id(RraSignature.__table__)
    event_id = next_id(RraStatusEvent.__table__)
    for business in businesses:
        shops = [p for p in by_business.get(business["id"], []) if p["borough"] != "outside"]
        if not shops or rng.random() > 0.27:
            continue
        signed = ctx.today - timedelta(days=rng.randint(30, 6 * 365))
        status = rng.choices(["active", "suspended", "withdrawn"], weights=[85, 5, 10])[0]
        changed = signed + timedelta(days=rng.randint(10, max(11, (ctx.today - signed).days))) if status != "active" \
            else signed
        changed = min(changed, ctx.today)
        reason = {"active": "", "suspended": "Failed a test purchase; under review",
                  "withdrawn": rng.choice(["Shop changed hands", "Declined to renew", "Repeated failures"])}[status]
        signature_rows.append(dict(
            id=signature_id, business_id=business["id"],
            scheme="london-rra" if rng.random() < 0.8 else "borough-charter",
            scheme_other="", signed_on=signed, signatory_name=business["contact_name"], signatory_role="Owner",
            ts_officer=rng.choice(["J. Okafor", "S. Patel", "M. Evans", "R. Chen"]),
            police_officer=rng.choice(["PC A. Wright", "PC D. Nowak", ""]),
            commitments=sorted(rng.sample(list(RRA_COMMITMENTS), k=rng.randint(6, len(RRA_COMMITMENTS)))),
            signage_given=rng.random() < 0.85, status=status, status_changed_on=changed, status_reason=reason,
            review_due=signed + timedelta(days=365 * (1 + (ctx.today - signed).days // 365)), created_at=now,
            updated_at=now, version=1))
        for shop in shops:
            link_rows.append({"signature_id": signature_id, "premises_id": shop["id"]})
        event_rows.append(dict(id=event_id, signature_id=signature_id, status="active", on=signed, reason="Signed",
                               by="demo", at=now))
        event_id += 1
        if status != "active":
            event_rows.append(dict(id=event_id, signature_id=signature_id, status=status, on=changed, reason=reason,
                                   by="demo", at=now))
            event_id += 1
        signature_id += 1
    bulk_insert(RraSignature.__table__, signature_rows)
    bulk_insert(rra_signature_premises, link_rows)
    bulk_insert(RraStatusEvent.__table__, event_rows)
