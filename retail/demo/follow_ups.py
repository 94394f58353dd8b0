"""The follow-up the demo decides after an underage sale: advice, warnings, cautions and prosecutions, with
court outcomes (an acquittal among them)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

COURTS = ["Highbury Corner Magistrates' Court", "Thames Magistrates' Court", "Croydon Magistrates' Court",
          "Westminster Magistrates' Court", "Bromley Magistrates' Court", "Willesden Magistrates' Court"]


def decide_follow_up(rng, add_action, row, decided: date, today: date, rare_cases: dict) -> None:
    """The follow-up after an underage sale: mostly advice or warning, some cautions and prosecutions."""
    choice = rng.choices(["advice-letter", "warning-letter", "simple-caution", "prosecution", "none"],
                         weights=[38, 35, 13, 9, 5])[0]
    if choice in ("advice-letter", "warning-letter", "none"):
        add_action(row, choice, decided, status="completed", completed_on=decided)
    elif choice == "simple-caution":
        done = decided + timedelta(days=rng.randint(20, 60))
        add_action(row, choice, decided, status="completed" if done <= today else "pending",
                   completed_on=done if done <= today else None)
    else:
        hearing = decided + timedelta(days=rng.randint(60, 150))
        if hearing <= today and (rng.random() < 0.15 or not rare_cases.get("acquittal")):
            rare_cases["acquittal"] = True
            # Not every prosecution succeeds: an acquittal is never held against the business (brief 5.3).
            add_action(row, choice, decided, status="completed", completed_on=hearing, court=rng.choice(COURTS),
                       hearing_on=hearing, court_result="Not guilty: due diligence defence accepted",
                       court_outcome="acquitted")
        elif hearing <= today:
            fine = Decimal(rng.choice([500, 1200, 2000, 4000, 8000, 15000, 40000]))
            add_action(row, choice, decided, status="completed", completed_on=hearing, court=rng.choice(COURTS),
                       hearing_on=hearing, court_result=rng.choice(["Guilty plea", "Convicted after trial"]),
                       court_outcome="convicted", fine=fine, costs=Decimal(rng.choice([450, 850, 1200, 2300])))
        else:
            add_action(row, choice, decided, court=rng.choice(COURTS), hearing_on=hearing)
