# kind: wrong
# exercise: health_report
# mistake: divides by the last layer's gradient std without the lesson's rule for 0 (r = inf or 1)
# caught_by: health_report_rules
# message: ZeroDivisionError
def health_report(stats, *, thresholds=diagnostics.DEFAULT_THRESHOLDS):
    ref = float(stats[-1].grad_std)
    report = []
    for s in stats:
        bad = [k for k, v in s.numbers().items() if v is not None and not np.isfinite(v)]
        r = float(s.grad_std) / ref
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
