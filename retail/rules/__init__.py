"""The law and the code of practice as plain rules, shared by test purchases, letters, scoring, naming and the
listing monitor. Nothing here touches the database: each rule takes the facts recorded and returns a verdict with the
reason an officer reads. Each module cites the section of the domain brief (`shared/mission/domain-brief.md`) it
follows; where the brief marks a point unverified, the module says which reading it chose and why.

- `items`: what was offered or sold: an article under s.141A, exempt, or a prohibited weapon (brief 1.1, 1.4).
- `prohibited`: the one catalogue of prohibited weapons (s.141 and its orders, ROWA 1959).
- `online`: remote sales judged per party: the seller under s.141B / OWA 2019 s.38, the courier under s.39 / s.42
  (brief 1.2, 1.3, 2.4).
- `volunteers`: the code of practice's age limits and safeguards (brief 2.2, 2.3).
- `enforcement`: how a failure ended, the prosecution time limit, what counts for scoring and naming (brief 1.1,
  5.2, 5.3).
"""
