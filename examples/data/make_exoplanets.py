"""Writes examples/data/nasa-exoplanets.csv: a generated (not real) table of
about 4,000 exoplanets in the layout of the old NASA Exoplanet Archive
"planets" export that Dask's seed notebook read with
`dd.read_csv("nasa-exoplanets.csv")`.

The numbers are drawn so that they look like the archive's: discovery
methods and facilities in roughly the archive's proportions (mostly Kepler
transits, then radial velocities from the big spectrographs, a few
microlensing, imaging and timing detections), discovery years from 1992 with
the 2014 and 2016 Kepler bursts, short periods for transits and longer ones
for radial velocities, semi-major axes from Kepler's third law, and the
archive's gaps (empty = missing: no mass for most transits, no radius for
radial velocities, no period for microlensing, ...). A few well-known
systems (51 Peg, HD 209458, TRAPPIST-1, Kepler-90, ...) are in with
approximately their real values; everything else is made up.

Deterministic: `python3 examples/data/make_exoplanets.py` rewrites the same
file byte for byte (Python's `random` with a fixed seed; standard library
only).
"""
import math
import os
import random

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nasa-exoplanets.csv")
ROWS = 4000
COLUMNS = [
    "rowid", "pl_hostname", "pl_letter", "pl_name", "pl_discmethod", "pl_pnum",
    "pl_orbper", "pl_orbsmax", "pl_orbeccen", "pl_bmassj", "pl_radj",
    "st_dist", "st_teff", "st_mass", "st_rad", "pl_disc", "pl_facility",
]

# (method, weight per system)
METHODS = [
    ("Transit", 0.705),
    ("Radial Velocity", 0.215),
    ("Microlensing", 0.035),
    ("Imaging", 0.02),
    ("Transit Timing Variations", 0.008),
    ("Eclipse Timing Variations", 0.006),
    ("Orbital Brightness Modulation", 0.004),
    ("Pulsar Timing", 0.003),
    ("Astrometry", 0.002),
    ("Pulsation Timing Variations", 0.002),
]

# facility -> (weight within its method, first year, last year, host name style)
FACILITIES = {
    "Transit": [
        ("Kepler", 0.60, 2010, 2018, "kepler"),
        ("K2", 0.13, 2015, 2020, "k2"),
        ("Transiting Exoplanet Survey Satellite (TESS)", 0.05, 2018, 2020, "toi"),
        ("SuperWASP", 0.08, 2006, 2019, "wasp"),
        ("HATNet", 0.04, 2007, 2019, "hatp"),
        ("HATSouth", 0.02, 2013, 2019, "hats"),
        ("KELT", 0.015, 2011, 2019, "kelt"),
        ("CoRoT", 0.025, 2008, 2015, "corot"),
        ("Qatar", 0.01, 2011, 2019, "qatar"),
        ("XO", 0.005, 2006, 2016, "xo"),
        ("TrES", 0.005, 2006, 2011, "tres"),
        ("Spitzer Space Telescope", 0.01, 2016, 2020, "k2"),
        ("Multiple Observatories", 0.01, 2012, 2020, "kepler"),
    ],
    "Radial Velocity": [
        ("La Silla Observatory", 0.30, 2003, 2020, "rv"),
        ("W. M. Keck Observatory", 0.24, 1996, 2020, "rv"),
        ("Haute-Provence Observatory", 0.09, 1995, 2019, "rv"),
        ("Lick Observatory", 0.07, 1996, 2016, "rv"),
        ("Anglo-Australian Telescope", 0.08, 1998, 2019, "rv"),
        ("Okayama Astrophysical Observatory", 0.05, 2003, 2019, "rv"),
        ("McDonald Observatory", 0.05, 1997, 2019, "rv"),
        ("Roque de los Muchachos Observatory", 0.07, 2012, 2020, "rv"),
        ("Calar Alto Observatory", 0.03, 2016, 2020, "rv"),
        ("Bohyunsan Optical Astronomical Observatory", 0.02, 2008, 2019, "rv"),
    ],
    "Microlensing": [
        ("OGLE", 0.40, 2004, 2020, "ogle"),
        ("MOA", 0.25, 2008, 2020, "moa"),
        ("KMTNet", 0.35, 2016, 2020, "kmt"),
    ],
    "Imaging": [
        ("Paranal Observatory", 0.35, 2004, 2020, "img"),
        ("Gemini Observatory", 0.25, 2008, 2020, "img"),
        ("W. M. Keck Observatory", 0.2, 2008, 2019, "img"),
        ("Subaru Telescope", 0.2, 2009, 2019, "img"),
    ],
    "Transit Timing Variations": [("Kepler", 1.0, 2011, 2019, "kepler")],
    "Eclipse Timing Variations": [("Multiple Observatories", 1.0, 2009, 2019, "etv")],
    "Orbital Brightness Modulation": [("Kepler", 1.0, 2011, 2018, "kic")],
    "Pulsar Timing": [("Arecibo Observatory", 1.0, 1992, 2012, "psr")],
    "Astrometry": [("Paranal Observatory", 1.0, 2013, 2019, "img")],
    "Pulsation Timing Variations": [("Kepler", 1.0, 2015, 2018, "kic")],
}

# Multiplicity of a system by method: weights for 1, 2, 3, ... planets.
PNUM = {
    "Transit": [76, 13, 6, 3, 1.3, 0.6, 0.1],
    "Radial Velocity": [74, 17, 6, 2, 0.7, 0.3],
    "Transit Timing Variations": [0, 70, 20, 10],
}

FAMOUS = [
    # host, method, facility, year, dist, teff, mass, rad,
    # [(letter, period, ecc, mass_j, radius_j)]
    ("51 Peg", "Radial Velocity", "Haute-Provence Observatory", 1995, 15.47, 5768, 1.09, 1.24,
     [("b", 4.230785, 0.013, 0.46, None)]),
    ("HD 209458", "Transit", "Multiple Observatories", 1999, 48.30, 6065, 1.15, 1.2,
     [("b", 3.52474859, 0.0, 0.69, 1.38)]),
    ("TRAPPIST-1", "Transit", "Multiple Observatories", 2016, 12.43, 2559, 0.09, 0.12,
     [("b", 1.51087, 0.006, 0.003, 0.1), ("c", 2.421937, 0.007, 0.004, 0.1),
      ("d", 4.049219, 0.008, 0.001, 0.07), ("e", 6.101013, 0.005, 0.002, 0.08),
      ("f", 9.20754, 0.01, 0.003, 0.09), ("g", 12.352446, 0.002, 0.004, 0.1),
      ("h", 18.772866, 0.006, 0.001, 0.07)]),
    ("Kepler-90", "Transit", "Kepler", 2013, 855.2, 6080, 1.2, 1.2,
     [("b", 7.008151, None, None, 0.12), ("c", 8.719375, None, None, 0.11),
      ("i", 14.44912, None, None, 0.12), ("d", 59.73667, None, None, 0.26),
      ("e", 91.93913, None, None, 0.24), ("f", 124.9144, None, None, 0.26),
      ("g", 210.60697, None, 0.47, 0.72), ("h", 331.60059, 0.011, 0.64, 1.01)]),
    ("PSR B1257+12", "Pulsar Timing", "Arecibo Observatory", 1992, 710.0, None, 1.4, None,
     [("b", 25.262, 0.0, 0.00007, None), ("c", 66.5419, 0.0186, 0.013, None),
      ("d", 98.2114, 0.0252, 0.012, None)]),
    ("HR 8799", "Imaging", "W. M. Keck Observatory", 2008, 41.29, 7430, 1.47, 1.34,
     [("b", None, None, 7.0, 1.2), ("c", None, None, 10.0, 1.2),
      ("d", None, None, 10.0, 1.2), ("e", None, None, 10.0, 1.17)]),
    ("55 Cnc", "Radial Velocity", "Lick Observatory", 1996, 12.59, 5196, 0.91, 0.94,
     [("b", 14.6516, 0.0, 0.83, None), ("c", 44.3989, 0.03, 0.17, None),
      ("d", 4825.0, 0.13, 3.88, None), ("e", 0.7365474, 0.05, 0.025, 0.17),
      ("f", 262.0, 0.08, 0.15, None)]),
    ("GJ 876", "Radial Velocity", "W. M. Keck Observatory", 1998, 4.67, 3473, 0.37, 0.38,
     [("b", 61.1166, 0.0324, 2.276, None), ("c", 30.0881, 0.25591, 0.714, None),
      ("d", 1.937780, 0.207, 0.022, None), ("e", 124.26, 0.055, 0.046, None)]),
]


def pick(rng, items, weights):
    return rng.choices(items, weights=weights, k=1)[0]


def maybe(rng, p_missing, value):
    return None if value is None or rng.random() < p_missing else value


def fmt(v, digits):
    """Up to `digits` significant digits, no exponent, no trailing zeros."""
    if v is None:
        return ""
    if isinstance(v, int):
        return str(v)
    if v == 0:
        return "0"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(v)))))
    s = f"{v:.{decimals}f}"
    return s.rstrip("0").rstrip(".") if "." in s else s


class Names:
    def __init__(self, rng):
        self.rng = rng
        self.used = set(h for h, *_ in FAMOUS)
        self.counter = {}

    def new(self, style):
        rng = self.rng
        for attempt in range(1000):
            # Small surveys run out of numbers: let the ranges grow.
            more = attempt // 20
            if style == "kepler":
                n = rng.choice(["Kepler-%d" % rng.randint(4, 1990), "KOI-%d" % rng.randint(12, 7600)]
                               if rng.random() < 0.12 else ["Kepler-%d" % rng.randint(4, 1990)])
            elif style == "k2":
                n = "K2-%d" % rng.randint(2, 410)
            elif style == "toi":
                n = "TOI-%d" % rng.randint(100, 2300)
            elif style == "wasp":
                n = "WASP-%d" % rng.randint(1, 190 + more)
            elif style == "hatp":
                n = "HAT-P-%d" % rng.randint(1, 70 + more)
            elif style == "hats":
                n = "HATS-%d" % rng.randint(1, 72 + more)
            elif style == "kelt":
                n = "KELT-%d" % rng.randint(1, 24 + more)
            elif style == "corot":
                n = "CoRoT-%d" % rng.randint(1, 33 + more)
            elif style == "qatar":
                n = "Qatar-%d" % rng.randint(1, 10 + more)
            elif style == "xo":
                n = "XO-%d" % rng.randint(1, 7 + more)
            elif style == "tres":
                n = "TrES-%d" % rng.randint(1, 5 + more)
            elif style == "rv":
                r = rng.random()
                if r < 0.68:
                    n = "HD %d" % rng.randint(1000, 240000)
                elif r < 0.83:
                    n = "HIP %d" % rng.randint(1000, 118000)
                elif r < 0.95:
                    n = "GJ %d" % rng.randint(1, 1300)
                else:
                    n = "BD%+d %d" % (rng.randint(-60, 70), rng.randint(100, 5000))
            elif style in ("ogle", "moa", "kmt"):
                survey = {"ogle": "OGLE", "moa": "MOA", "kmt": "KMT"}[style]
                n = "%s-%d-BLG-%04dL" % (survey, rng.randint(2003, 2019), rng.randint(1, 1900))
            elif style == "img":
                r = rng.random()
                n = ("2MASS J%02d%02d%+03d%02d" % (rng.randint(0, 23), rng.randint(0, 59), rng.randint(-70, 70), rng.randint(0, 59))
                     if r < 0.5 else "HD %d" % rng.randint(1000, 240000) if r < 0.8 else "GJ %d" % rng.randint(1, 1300))
            elif style == "etv":
                n = rng.choice(["NY Vir", "NN Ser", "HW Vir", "RR Cae", "DE CVn", "NSVS %d" % rng.randint(1000000, 9999999),
                                "Kepler-%d" % rng.randint(400, 460)])
            elif style == "kic":
                n = "KIC %d" % rng.randint(1000000, 12999999)
            elif style == "psr":
                n = "PSR J%04d%+03d%02d" % (rng.randint(0, 2359), rng.randint(-60, 60), rng.randint(0, 59))
            else:
                raise ValueError(style)
            if n not in self.used:
                self.used.add(n)
                return n
        raise RuntimeError("out of names for " + style)


def star(rng, style, method):
    """(dist pc, teff K, mass Msun, radius Rsun) of a host."""
    if style in ("rv",) and rng.random() < 0.12:  # evolved giants
        teff = rng.gauss(4800, 300)
        mass = max(0.8, rng.gauss(1.6, 0.4))
        rad = max(2.5, rng.lognormvariate(math.log(8), 0.4))
    else:
        mdwarf = 0.25 if style in ("rv", "img", "k2", "toi") else 0.05 if style == "kepler" else 0.02
        if rng.random() < mdwarf:
            teff = rng.uniform(2900, 3950)
        else:
            teff = rng.gauss(5650, 600)
        teff = min(max(teff, 2600), 9500)
        mass = max(0.08, (teff / 5778) ** 2.2 * rng.gauss(1.0, 0.08))
        rad = max(0.1, mass ** 0.85 * rng.gauss(1.0, 0.12))
    dist = {
        "kepler": lambda: rng.lognormvariate(math.log(750), 0.55),
        "kic": lambda: rng.lognormvariate(math.log(750), 0.55),
        "k2": lambda: rng.lognormvariate(math.log(220), 0.7),
        "toi": lambda: rng.lognormvariate(math.log(90), 0.7),
        "rv": lambda: rng.lognormvariate(math.log(38), 0.7),
        "img": lambda: rng.lognormvariate(math.log(60), 0.6),
        "ogle": lambda: rng.uniform(1000, 8000),
        "moa": lambda: rng.uniform(1000, 8000),
        "kmt": lambda: rng.uniform(1000, 8000),
        "psr": lambda: rng.uniform(300, 4000),
        "etv": lambda: rng.lognormvariate(math.log(500), 0.6),
    }.get(style, lambda: rng.lognormvariate(math.log(350), 0.5))()
    if method == "Microlensing":
        teff, rad = None, None
        mass = rng.uniform(0.1, 1.0)
    if method == "Pulsar Timing":
        teff, rad, mass = None, None, 1.4
    return (maybe(rng, 0.04, dist), maybe(rng, 0.03, teff), maybe(rng, 0.05, mass), maybe(rng, 0.05, rad))


def planets(rng, method, style, n, st_mass):
    """[(period, smax, ecc, mass_j, radius_j)] for n planets, inner first."""
    out = []
    hot = style in ("wasp", "hatp", "hats", "kelt", "corot", "qatar", "xo", "tres")
    if method == "Transit":
        p = rng.uniform(0.8, 6) if hot else rng.lognormvariate(math.log(8), 1.1)
    elif method == "Radial Velocity":
        p = rng.lognormvariate(math.log(250), 1.6)
    elif method in ("Transit Timing Variations", "Orbital Brightness Modulation"):
        p = rng.lognormvariate(math.log(15), 0.9)
    elif method == "Pulsar Timing":
        p = rng.lognormvariate(math.log(60), 1.5)
    else:
        p = rng.lognormvariate(math.log(3000), 1.2)
    p = min(max(p, 0.25), 40000)
    for i in range(n):
        if i > 0:
            p *= rng.uniform(1.3, 3.2)
        m = st_mass if st_mass else 1.0
        a = (m * (p / 365.25) ** 2) ** (1 / 3)
        if method == "Transit":
            if hot:
                radius = rng.uniform(0.8, 1.9)
                mass = rng.lognormvariate(math.log(0.9), 0.7)
            else:
                re = rng.lognormvariate(math.log(2.2), 0.55)
                if rng.random() < 0.06:
                    re = rng.uniform(8, 16)
                radius = re / 11.21
                mass = maybe(rng, 0.82, (re ** 1.8) / 317.8 * rng.lognormvariate(0, 0.4))
            ecc = maybe(rng, 0.75, 0.0 if rng.random() < 0.5 else rng.betavariate(0.9, 8))
            period, smax = p, maybe(rng, 0.25 if style == "kepler" else 0.08, a)
        elif method == "Radial Velocity":
            mass = rng.lognormvariate(math.log(0.9), 1.4)
            mass = min(max(mass, 0.003), 25)
            radius = None
            ecc = maybe(rng, 0.12, rng.betavariate(0.9, 3))
            period, smax = p, maybe(rng, 0.04, a)
        elif method == "Microlensing":
            mass = min(max(rng.lognormvariate(math.log(0.5), 1.3), 0.003), 15)
            radius, ecc, period, smax = None, None, None, rng.uniform(0.5, 8)
        elif method == "Imaging":
            mass = maybe(rng, 0.15, rng.uniform(2, 22))
            radius = maybe(rng, 0.5, rng.uniform(1.0, 1.8))
            ecc, period, smax = None, maybe(rng, 0.8, p * 30), maybe(rng, 0.1, rng.lognormvariate(math.log(80), 1.0))
        else:
            mass = maybe(rng, 0.3, rng.lognormvariate(math.log(2), 1.2))
            radius = maybe(rng, 0.8, rng.uniform(0.5, 1.5))
            ecc = maybe(rng, 0.6, rng.betavariate(0.9, 3))
            period, smax = maybe(rng, 0.1, p), maybe(rng, 0.3, a)
        out.append((period, smax, ecc, mass, radius))
    return out


def main():
    rng = random.Random(20191202)
    names = Names(rng)
    rows = []
    for host, method, facility, year, dist, teff, mass, rad, pls in FAMOUS:
        for letter, period, ecc, mj, rj in pls:
            smax = (mass * (period / 365.25) ** 2) ** (1 / 3) if period else None
            rows.append([host, letter, method, len(pls), period, smax, ecc, mj, rj, dist, teff, mass, rad, year, facility])
    while len(rows) < ROWS:
        method = pick(rng, [m for m, _ in METHODS], [w for _, w in METHODS])
        facs = FACILITIES[method]
        facility, _, first, last, style = pick(rng, facs, [f[1] for f in facs])
        hot = style in ("wasp", "hatp", "hats", "kelt", "corot", "qatar", "xo", "tres")
        weights = [96, 3.5, 0.5] if hot else PNUM.get(method, [92, 8])
        n = pick(rng, list(range(1, len(weights) + 1)), weights)
        if facility == "Kepler" and method == "Transit":
            # The 2014 and 2016 statistical-validation bursts.
            year = pick(rng, list(range(2010, 2019)), [3, 4, 5, 6, 30, 6, 32, 5, 6])
        else:
            year = rng.randint(first, last)
        host = names.new(style)
        dist, teff, smass, srad = star(rng, style, method)
        letters = "bcdefghij"
        for i, (period, smax, ecc, mj, rj) in enumerate(planets(rng, method, style, n, smass)):
            y = year if rng.random() < 0.85 or i == 0 else min(2020, year + rng.randint(1, 4))
            rows.append([host, letters[i], method, n, period, smax, ecc, mj, rj, dist, teff, smass, srad, y, facility])
    rows.sort(key=lambda r: (r[0], r[1]))
    with open(OUT, "w", newline="\n") as f:
        f.write(",".join(COLUMNS) + "\n")
        for i, (host, letter, method, n, period, smax, ecc, mj, rj, dist, teff, smass, srad, year, facility) in enumerate(rows):
            f.write(",".join([
                str(i + 1), host, letter, f"{host} {letter}", method, str(n),
                fmt(period, 7), fmt(smax, 4), fmt(ecc, 3), fmt(mj, 4), fmt(rj, 3),
                fmt(dist, 5), fmt(None if teff is None else int(round(teff)), 0), fmt(smass, 3), fmt(srad, 3),
                str(year), facility,
            ]) + "\n")
    print(f"wrote {len(rows)} planets to {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
