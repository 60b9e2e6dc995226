"""Lightning Pose's figures for `kinema bench train|predict` (run by lp-baseline.sh, inside LP's venv).

`litpose train CONFIG` with the overrides below, timed from inside Lightning (a callback: the training part of each
epoch and each step, validation apart), then LP's labelled-frame evaluation (pixel error per split) and
`predict_on_video_file` on one video, model loading timed apart. Everything lands in OUT/peer_summary.json;
`--result FILE` prints that summary as one `RESULT lp key=value ...` line.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path


def result_line(path):
    summary = json.load(open(path))
    timing, error, video = summary["timing"] or {}, summary["pixel_error"], summary["video"]

    def f(value):
        return "na" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)

    fields = {
        "epochs": timing.get("epochs"), "batch": timing.get("batch_size"), "steps_per_epoch": timing.get("steps_per_epoch"),
        "train_s_per_epoch": timing.get("train_s_per_epoch_median"), "step_s": timing.get("step_s_median"),
        "full_step_s": timing.get("full_batch16_step_s_median"), "test_px_err": error["test"]["mean_px"],
        "val_px_err": error["validation"]["mean_px"], "train_px_err": error["train"]["mean_px"],
        "n_test": error["test"]["n_frames"], "infer_fps": video["fps"], "infer_frames": video["pred_rows"],
        "model_load_s": video["model_load_s"], "loadavg_train": timing.get("loadavg1_mean_during_training"),
    }
    print("RESULT lp " + " ".join(f"{k}={f(v)}" for k, v in fields.items()))


def overrides(data_dir, epochs):
    # LP's 300-epoch recipe halves the learning rate at epochs 150, 200 and 250: the same fractions of `epochs`.
    milestones = [max(1, round(epochs * m / 300)) for m in (150, 200, 250)]
    return [
        f"data.data_dir={data_dir}", "data.video_dir=${data.data_dir}/videos",
        "data.image_resize_dims.height=256", "data.image_resize_dims.width=256",
        "model.backbone=resnet50", "+model.backbone_pretrained=false",  # torchvision resnet50(weights=None)
        "model.losses_to_use=[]", "model.model_name=peer_lp_resnet50_scratch",  # supervised only: no DALI video
        "training.train_batch_size=16", f"training.min_epochs={epochs}", f"training.max_epochs={epochs}",
        "training.unfreezing_epoch=0",  # a random-init backbone trains from the first epoch
        "training.check_val_every_n_epoch=1", "training.log_every_n_steps=1",
        "training.lr_scheduler_params.multisteplr.milestones=[%d,%d,%d]" % tuple(milestones),
        "eval.predict_vids_after_training=false", "eval.save_vids_after_training=false",  # timed below instead
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--result")
    parser.add_argument("--config")
    parser.add_argument("--data-dir")
    parser.add_argument("--out")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--video")
    parser.add_argument("--skip-train", action="store_true")
    args = parser.parse_args()
    if args.result:
        return result_line(args.result)

    import cv2
    import hydra
    import lightning.pytorch as pl
    import numpy as np
    import pandas as pd
    import torch
    import lightning_pose
    import lightning_pose.train as lp_train
    from lightning_pose.api import Model

    print(f"lightning-pose {lightning_pose.version}, torch {torch.__version__} ({torch.get_num_threads()} threads)", flush=True)

    class Timer(pl.Callback):
        """Per step: (epoch, index, wall s, cpu s, batch size); per epoch: the training part (first batch start to last
        batch end, data loading included) with its CPU time and load average; per validation: wall s."""

        def __init__(self):
            self.steps, self.epochs, self.validations = [], [], []

        def on_train_epoch_start(self, trainer, module):
            self.start = self.last = (time.perf_counter(), time.process_time())

        def on_train_batch_start(self, trainer, module, batch, index):
            self.batch = (time.perf_counter(), time.process_time())

        def on_train_batch_end(self, trainer, module, outputs, batch, index):
            now = (time.perf_counter(), time.process_time())
            size = int(batch["images"].shape[0]) if isinstance(batch, dict) and "images" in batch else None
            self.steps.append((trainer.current_epoch, index, now[0] - self.batch[0], now[1] - self.batch[1], size))
            self.last = now

        def close_epoch(self, trainer):
            if self.epochs and self.epochs[-1][0] == trainer.current_epoch:
                return
            wall, cpu = self.last[0] - self.start[0], self.last[1] - self.start[1]
            self.epochs.append((trainer.current_epoch, wall, cpu, os.getloadavg()[0]))
            print(f"epoch {trainer.current_epoch}: training {wall:.2f} s wall, {cpu:.2f} s cpu", flush=True)

        def on_validation_epoch_start(self, trainer, module):
            self.validation = time.perf_counter()
            if not trainer.sanity_checking:
                self.close_epoch(trainer)

        def on_validation_epoch_end(self, trainer, module):
            if not trainer.sanity_checking:
                self.validations.append((trainer.current_epoch, time.perf_counter() - self.validation))

        def on_train_epoch_end(self, trainer, module):
            self.close_epoch(trainer)

    out = Path(args.out).absolute()
    if not args.skip_train:
        timer = Timer()
        callbacks = lp_train.get_callbacks
        lp_train.get_callbacks = lambda *a, **k: callbacks(*a, **k) + [timer]
        config = Path(args.config).absolute()
        with hydra.initialize_config_dir(version_base="1.1", config_dir=str(config.parent)):
            cfg = hydra.compose(config_name=config.stem, overrides=overrides(args.data_dir, args.epochs))
        out.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        lp_train.train(cfg, model_dir=out)  # fits, then writes predictions_pixel_error.csv for the labelled frames
        epochs, steps = timer.epochs, timer.steps
        full = [s[2] for s in steps if s[4] == 16]
        stats = {
            "epochs": len(epochs), "steps_per_epoch": len(steps) // max(1, len(epochs)), "batch_size": 16,
            "train_s_per_epoch_mean": float(np.mean([e[1] for e in epochs])),
            "train_s_per_epoch_mean_excl_first": float(np.mean([e[1] for e in epochs[1:]] or [epochs[0][1]])),
            "train_s_per_epoch_median": float(np.median([e[1] for e in epochs])),
            "train_cpu_s_per_epoch_median": float(np.median([e[2] for e in epochs])),
            "step_s_mean": float(np.mean([s[2] for s in steps])), "step_s_median": float(np.median([s[2] for s in steps])),
            "step_cpu_s_median": float(np.median([s[3] for s in steps])),
            "full_batch16_step_s_median": float(np.median(full)) if full else None,
            "val_s_per_epoch_median": float(np.median([v[1] for v in timer.validations])) if timer.validations else None,
            "loadavg1_mean_during_training": float(np.mean([e[3] for e in epochs])),
            "train_plus_labeled_eval_total_s": time.perf_counter() - start,
        }
        json.dump({"stats": stats, "epoch_train": epochs, "val": timer.validations, "steps": steps},
                  open(out / "peer_timing.json", "w"), indent=1)

    # Pixel error as LP reports it: rows of predictions_pixel_error.csv by split.
    errors = pd.read_csv(out / "predictions_pixel_error.csv", index_col=0)
    columns = [c for c in errors.columns if c != "set"]
    pixel_error = {}
    for split in ["train", "validation", "test"]:
        values = errors.loc[errors["set"] == split, columns].to_numpy(dtype=float)
        pixel_error[split] = {"n_frames": int(values.shape[0]), "mean_px": float(np.nanmean(values)),
                              "median_px": float(np.nanmedian(values))}

    start = time.perf_counter()
    model = Model.from_dir(out)
    model._load()
    load_s = time.perf_counter() - start
    capture = cv2.VideoCapture(args.video)
    frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    predicted = model.predict_on_video_file(args.video, compute_metrics=False, generate_labeled_video=False)
    predict_s = time.perf_counter() - start
    video = {"model_load_s": load_s, "video_frames": frames, "pred_rows": len(predicted.predictions),
             "predict_s": predict_s, "fps": len(predicted.predictions) / predict_s,
             "frames_per_batch": int(model.config.cfg.dali.base.predict.sequence_length),
             "loadavg1_before": load_before, "loadavg1_after": os.getloadavg()[0]}
    timing_file = out / "peer_timing.json"
    timing = json.load(open(timing_file))["stats"] if timing_file.exists() else None
    json.dump({"timing": timing, "pixel_error": pixel_error, "video": video}, open(out / "peer_summary.json", "w"), indent=1)
    print(f"wrote {out / 'peer_summary.json'}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
