# kind: right
# exercise: health_report
def health_report(stats, *, thresholds=diagnostics.DEFAULT_THRESHOLDS):
    import math

    def ratio(s, last):
        if last == 0:
            return math.inf if s.grad_std > 0 else 1.0
        return s.grad_std / last

    def judge(s, r):
        if any(v is not None and not math.isfinite(v) for v in s.numbers().values()):
            return "exploding", "a statistic is nan or inf"
        if s.dead_fraction is not None and s.dead_fraction > thresholds.dead:
            return "dead", f"dead fraction {s.dead_fraction:.2f}"
        if s.saturation is not None and s.saturation > thresholds.saturated:
            return "saturated", f"saturation {s.saturation:.2f}"
        if s.act_std > thresholds.max_act_std:
            return "exploding", f"output std {s.act_std:.3g}"
        if r > thresholds.explode_ratio:
            return "exploding", f"gradient ratio {r:.3g}"
        if r < thresholds.vanish_ratio:
            return "vanishing", f"gradient ratio {r:.3g}"
        return "healthy", f"gradient ratio {r:.3g}"

    last = stats[-1].grad_std
    return [diagnostics.Verdict(s.name, *judge(s, ratio(s, last))) for s in stats]
