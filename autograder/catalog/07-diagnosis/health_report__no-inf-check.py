# kind: wrong
# exercise: health_report
# mistake: tests only for nan (x != x), so an infinite statistic is not reported as exploding
# caught_by: health_report_rules
# message: nan only
def health_report(stats, *, thresholds=diagnostics.DEFAULT_THRESHOLDS):
    ref = stats[-1].grad_std
    report = []
    for s in stats:
        bad = [k for k, v in s.numbers().items() if v is not None and v != v]
        r = s.grad_std / ref if ref > 0 else (np.inf if s.grad_std > 0 else 1.0)
        if bad:
            verdict = "exploding"
        elif s.dead_fraction is not None and s.dead_fraction > thresholds.dead:
            verdict = "dead"
        elif s.saturation is not None and s.saturation > thresholds.saturated:
            verdict = "saturated"
        elif s.act_std > thresholds.max_act_std or r > thresholds.explode_ratio:
            verdict = "exploding"
        elif r < thresholds.vanish_ratio:
            verdict = "vanishing"
        else:
            verdict = "healthy"
        report.append((s.name, verdict, f"gradient is {r:.3g}x the last layer's"))
    return report
