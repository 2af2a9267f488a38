# kind: right
# exercise: health_report
def health_report(stats, *, thresholds=diagnostics.DEFAULT_THRESHOLDS):
    last = stats[len(stats) - 1].grad_std
    out = []
    for s in stats:
        numbers = np.array([v for v in s.numbers().values() if v is not None], dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = s.grad_std / last if last != 0 else (np.inf if s.grad_std > 0 else 1.0)
        rules = [
            ("exploding", not np.isfinite(numbers).all()),
            ("dead", (s.dead_fraction or 0.0) > thresholds.dead),
            ("saturated", (s.saturation or 0.0) > thresholds.saturated),
            ("exploding", max(s.act_std / thresholds.max_act_std, r / thresholds.explode_ratio) > 1),
            ("vanishing", r < thresholds.vanish_ratio),
            ("healthy", True),
        ]
        verdict = next(name for name, hit in rules if hit)
        out.append((s.name, verdict, f"{verdict}: ratio {r:.2g}, std {s.act_std:.2g}"))
    return out
