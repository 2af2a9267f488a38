# kind: wrong
# exercise: health_report
# mistake: never checks for nan/inf statistics
# caught_by: health_report_rules
# message: nan or inf
def health_report(stats, *, thresholds=diagnostics.DEFAULT_THRESHOLDS):
    ref = stats[-1].grad_std
    report = []
    for s in stats:
        bad = [k for k, v in s.numbers().items() if v is not None and not np.isfinite(v)]
        g = s.grad_std
        if ref > 0:
            r = g / ref
        else:
            r = np.inf if g > 0 else 1.0
        if False:
            verdict, reason = "exploding", f"{bad[0]} is not finite"
        elif s.dead_fraction is not None and s.dead_fraction > thresholds.dead:
            verdict, reason = "dead", f"{s.dead_fraction:.0%} of the units are dead"
        elif s.saturation is not None and s.saturation > thresholds.saturated:
            verdict, reason = "saturated", f"{s.saturation:.0%} saturated"
        elif s.act_std > thresholds.max_act_std or r > thresholds.explode_ratio:
            verdict, reason = "exploding", f"output std {s.act_std:.3g}, gradient {r:.3g}x"
        elif r < thresholds.vanish_ratio:
            verdict, reason = "vanishing", f"gradient is {r:.3g}x the last layer's"
        else:
            verdict, reason = "healthy", f"gradient is {r:.3g}x the last layer's"
        report.append((s.name, verdict, reason))
    return report
