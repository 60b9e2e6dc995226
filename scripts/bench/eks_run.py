"""One job of the EKS package (ensemble-kalman-smoother 4.6.2) for `kinema bench smooth`.

usage: python eks_run.py list
       python eks_run.py JOB OUT_DIR

Environment: EKS_DATA (the repository's Tests/Data/eks), EKS_FIXTURES (Tests/SmoothingTests/Fixtures),
EKS_EXAMPLES (optional: the package's own `data/` folder, for the `examples/...` jobs).
Prints one JSON line: the job, the smoothing parameters the package returned and its in-process seconds.
Run by scripts/bench/eks-baseline.sh, which times the whole process.
"""
import json
import os
import sys
import time

T0 = time.perf_counter()
os.environ.setdefault('JAX_PLATFORMS', 'cpu')

PAWS = ['paw1LH', 'paw2LF', 'paw3RF', 'paw4RH']


def jobs():
    """name -> (function name, keyword arguments without the output path, output keyword)."""
    data, fixtures = os.environ.get('EKS_DATA', ''), os.environ.get('EKS_FIXTURES', '')
    examples = os.environ.get('EKS_EXAMPLES', '')
    mm, mms = f'{data}/mirror-mouse', f'{data}/mirror-mouse-separate'
    table = {}
    for suffix, s in [('auto', None), ('s10', [10.0])]:
        table[f'singlecam_{suffix}'] = ('fit_eks_singlecam', dict(input_source=mm, smooth_param=s), 'file')
        table[f'mirrored_multicam_{suffix}'] = ('fit_eks_mirrored_multicam', dict(
            input_source=mm, bodypart_list=PAWS, camera_names=['top', 'bot'], smooth_param=s,
            quantile_keep_pca=95, inflate_vars=True), 'file')
        table[f'multicam_{suffix}'] = ('fit_eks_multicam', dict(
            input_source=mms, bodypart_list=PAWS, camera_names=['top', 'bot'], smooth_param=s,
            quantile_keep_pca=95, inflate_vars=True), 'dir')
    for suffix, s in [('auto', None), ('s5', [5.0])]:
        table[f'calibrated_{suffix}'] = ('fit_eks_multicam', dict(
            input_source=f'{fixtures}/calibrated/input', bodypart_list=['nose', 'paw'], smooth_param=s,
            quantile_keep_pca=95, inflate_vars=True,
            calibration=f'{fixtures}/calibrated/calibration.toml'), 'dir')
        table[f'paw_{suffix}'] = ('fit_eks_multicam_ibl_paw', dict(
            input_source=f'{fixtures}/paw/input', smooth_param=s, quantile_keep_pca=95, var_mode='var',
            inflate_vars=True), 'dir')
    for suffix, s in [('auto', None), ('fixed', [0.99, 0.98])]:
        table[f'pupil_{suffix}'] = ('fit_eks_pupil', dict(
            input_source=f'{fixtures}/pupil/input', smooth_params=s), 'file')
    if examples:
        for suffix, s in [('auto', None), ('fixed', [0.99, 0.98])]:
            table[f'examples/pupil_{suffix}'] = ('fit_eks_pupil', dict(
                input_source=f'{examples}/ibl-pupil', smooth_params=s), 'file')
        for suffix, s in [('auto', None), ('s5', [5.0])]:
            table[f'examples/calibrated_{suffix}'] = ('fit_eks_multicam', dict(
                input_source=f'{examples}/fly', smooth_param=s, quantile_keep_pca=95, inflate_vars=True,
                calibration=f'{examples}/fly/calibration.toml'), 'dir')
            table[f'examples/paw_{suffix}'] = ('fit_eks_multicam_ibl_paw', dict(
                input_source=f'{examples}/ibl-paw', smooth_param=s, quantile_keep_pca=95, var_mode='var',
                inflate_vars=True), 'dir')
    return table


def main():
    table = jobs()
    if sys.argv[1] == 'list':
        print('\n'.join(sorted(table)))
        return
    job, out = sys.argv[1], sys.argv[2]
    function, kwargs, output = table[job]
    import eks  # noqa: F401  (imported here: `list` must not pay for JAX)
    from eks.ibl_paw_multicam_smoother import fit_eks_multicam_ibl_paw
    from eks.ibl_pupil_smoother import fit_eks_pupil
    from eks.multicam_smoother import fit_eks_mirrored_multicam, fit_eks_multicam
    from eks.singlecam_smoother import fit_eks_singlecam
    functions = dict(fit_eks_singlecam=fit_eks_singlecam, fit_eks_mirrored_multicam=fit_eks_mirrored_multicam,
                     fit_eks_multicam=fit_eks_multicam, fit_eks_pupil=fit_eks_pupil,
                     fit_eks_multicam_ibl_paw=fit_eks_multicam_ibl_paw)
    os.makedirs(out, exist_ok=True)
    if output == 'file':
        kwargs['save_file'] = os.path.join(out, 'eks.csv')
    else:
        kwargs['save_dir'] = out
    t = time.perf_counter()
    result = functions[function](**kwargs)
    call = time.perf_counter() - t
    import numpy as np
    s = [float(v) for v in np.asarray(result[1], dtype=float).ravel()]
    print(json.dumps(dict(job=job, s=s, call_s=round(call, 3), process_s=round(time.perf_counter() - T0, 3))))


if __name__ == '__main__':
    main()
