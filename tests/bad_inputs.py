"""The table of ordinary mistakes every CLI command is tried against (tests/test_bad_input.py runs it; the CLI chapter shows it).

Each case: the command line (placeholders in braces are files the fixture makes) and a piece of the one error line the user must see.
Every case must end with exit status 2, exactly one line `error: ...` on stderr naming the bad value and what is accepted, no
traceback, nothing written, and no existing file changed."""
import json, os, pickle
from pathlib import Path

CASES = [
    # train: names, typos, numbers out of range, flags that do not exist
    ('train --model B_x-Wi_1', "unknown model 'B_x-Wi_1'. Accepted forms: B_<blocks>-Wi_<width>"),
    ('train --model B_6-Wi_512x', "unknown model 'B_6-Wi_512x'"),
    ('train --dataset cifar', "dataset='cifar' is not accepted; choose one of: cifar10"),
    ('train --epochs 0', 'epochs=0 must be >= 1'),
    ('train --epochs -1', 'epochs=-1 must be >= 1'),
    ('train --epochs ten', "argument --epochs: invalid int value: 'ten'"),
    ('train --batch-size 0', 'batch_size=0 must be >= 1'),
    ('train --lr -0.1', 'lr=-0.1 must be > 0'),
    ('train --lr 0', 'lr=0.0 must be > 0'),
    ('train --optimizer adam', "optimizer='adam' is not accepted; choose one of: lion, adamw, sgd"),
    ('train --label-smoothing 1.5', 'label_smoothing=1.5 must be in [0, 1)'),
    ('train --mixup -1', 'mixup=-1.0 must be >= 0'),
    ('train --crop-scale 0.5 0.2', 'crop_scale=(0.5, 0.2) must be two numbers with 0 < min <= max <= 1'),
    ('train --interp cubic', "interp='cubic' is not accepted; choose one of: bilinear, area"),
    ('train --amp fp16', "amp='fp16' is not accepted"),
    ('train --recipe official', "recipe='official' is not accepted; choose one of: official-finetune"),
    ('train --train-limit 0', 'train_limit=0 must be >= 1'),
    ('train --num-classes 0', 'num_classes=0 must be >= 1'),
    ('train --dataset synthetic --num-classes 5', 'num_classes=5 is smaller than the 10 classes of synthetic'),
    ('train --tta 11', 'tta=11 is not accepted; use 1 to 10'),
    ('train --bogus-flag 3', 'unrecognized arguments: --bogus-flag 3'),
    ('train --device cuda:7', "device='cuda:7' was asked for but CUDA is not available"),
    # numbers that are not finite or out of range: refused before anything is made
    ('train --lr nan', 'lr=nan must be a finite number > 0'),
    ('train --lr inf', 'lr=inf must be a finite number > 0'),
    ('train --warmup nan', 'warmup=nan must be a finite number >= 0'),
    ('train --weight-decay nan', 'weight_decay=nan must be a finite number >= 0'),
    ('train --mixup nan', 'mixup=nan must be a finite number >= 0'),
    ('train --clip-grad nan', 'clip_grad=nan must be a finite number >= 0'),
    ('train --momentum 2', 'momentum=2.0 must be in [0, 1)'),
    ('train --seed -1', 'seed=-1 must be in [0, 4294967295]'),
    ('train --seed 99999999999999999999', 'seed=99999999999999999999 must be in [0, 4294967295]'),
    ('train --time-budget inf', 'time_budget=inf must be a finite number > 0 seconds (or none)'),
    ('train --time-budget -5', 'time_budget=-5.0 must be > 0 seconds (or none)'),
    ('train --crop-scale nan 1', 'crop_scale=(nan, 1.0) must be two numbers'),
    ('train --model "B_2-Wi_64 "', "unknown model 'B_2-Wi_64 ': did you mean B_2-Wi_64?"),
    # data: empty, missing, damaged
    ('train --data-root {empty}', "dataset 'cifar10' not found: looked in {empty}/cifar-10-batches-py"),
    ('train --data-root {nowhere}', "dataset 'cifar10' not found: looked in {nowhere}/cifar-10-batches-py"),
    ('train --data-root {corrupt}', "corrupted"),
    ('train --dataset imagefolder --data-path {empty}', 'not found'),
    # output folders: an existing run, a file, a folder that holds other things
    ('train --dataset synthetic --model B_1-Wi_16 --out-dir {run}', 'already holds a run; pass --resume'),
    ('train --dataset synthetic --model B_1-Wi_16 --out-dir {afile}', 'is a file'),
    ('train --dataset synthetic --model B_1-Wi_16 --out-dir {busy}', 'already exists and holds other files'),
    ('train --dataset synthetic --resume --out-dir {empty}', '--resume: no run to resume in {empty}'),
    # finetune: checkpoints missing, mistyped, empty, truncated, not a state dict, code in a pickle, mismatched
    ('finetune --dataset synthetic', 'finetune needs --checkpoint'),
    ('finetune --dataset synthetic --checkpoint {nowhere}/w.pt', 'checkpoint not found: {nowhere}/w.pt is neither a file nor a published checkpoint'),
    ('finetune --dataset synthetic --checkpoint B_12-Wi_1024_res_64_in21k_cifar1', 'did you mean B_12-Wi_1024_res_64_in21k_cifar10'),
    ('finetune --dataset synthetic --checkpoint {ckpt}/empty.pt', '{ckpt}/empty.pt is empty (0 bytes)'),
    ('finetune --dataset synthetic --checkpoint {ckpt}/truncated.pt', '{ckpt}/truncated.pt is truncated or not a PyTorch file'),
    ('finetune --dataset synthetic --checkpoint {ckpt}/module.pt', '{ckpt}/module.pt holds Python objects other than tensors'),
    ('finetune --dataset synthetic --checkpoint {ckpt}/evil.pt', 'loading it could run code: refused'),
    ('finetune --dataset synthetic --checkpoint {ckpt}/nostate.pt', 'is not a state dict of tensors'),
    ('finetune --dataset synthetic --checkpoint {ckpt}/resnet.pt', "is not a checkpoint of the paper's MLPs"),
    ('finetune --dataset synthetic --checkpoint {badcfg}/weights.pt', 'config {badcfg}/config.txt is not valid JSON'),
    ('finetune --dataset synthetic --checkpoint {run16} --resolution 32', 'takes 16 px inputs (its first layer has 768 = 3x16x16 inputs), but resolution 32 was asked for'),
    ('finetune --dataset synthetic --checkpoint {run} --model B_2-Wi_64', 'does not fit model B_2-Wi_64: shape mismatch: linear_in.weight'),
    ('finetune --dataset synthetic --checkpoint {run} --out-dir {run}', 'already holds a run'),
    # eval: only evaluation's flags; heads that do not fit the data are refused, never scored
    ('eval --dataset synthetic', 'eval needs --checkpoint'),
    ('eval --checkpoint {run} --epochs 3', 'unrecognized arguments: --epochs 3'),
    ('eval --checkpoint {run} --dataset cifar10', 'has a 10-class head trained on synthetic, but cifar10 has 10 classes with other labels'),
    ('eval --checkpoint {run} --dataset synthetic --num-classes 5', '--num-classes 5 does not match checkpoint {run}, whose head has 10 classes'),
    ('eval --checkpoint {run} --dataset synthetic --tta 0', 'tta=0 must be >= 1'),
    ('eval --checkpoint {run} --dataset synthetic --test-limit 0', 'test_limit=0 must be >= 1'),
    ('eval --checkpoint {ckpt}/evil.pt --dataset synthetic', 'loading it could run code: refused'),
    ('eval --checkpoint {ckpt}/protocol4.pt --dataset synthetic', '{ckpt}/protocol4.pt is not a PyTorch file or is damaged'),   # no warning above it
    # download and the published checkpoints
    ('download B_12-Wi_1024_res_64_in21k_cifar1', "'B_12-Wi_1024_res_64_in21k_cifar1' is not a published checkpoint; did you mean"),
    ('download all-of-them', "'all-of-them' is not a published checkpoint"),
    # benchmarks
    ('bench infer --models B_x-Wi_1', "unknown model 'B_x-Wi_1'"),
    ('bench infer --batch-sizes 0', "--batch-sizes '0' is not accepted: give positive integers"),
    ('bench infer --batch-sizes a,b', "--batch-sizes 'a,b' is not accepted"),
    ('bench infer --compile fast', "--compile='fast' is not accepted; choose one of: default, reduce-overhead, max-autotune"),
    ('bench infer --paired -1', "--paired -1: must be >= 0"),
    ('bench infer --gemm-n 0', "--gemm-n '0' is not accepted: give positive integers"),
    ('bench train --gemm-n 1024,x', "--gemm-n '1024,x' is not accepted"),
    ('bench train --model B_x-Wi_1', "unknown model 'B_x-Wi_1'"),
    ('bench train --batch-size 0', "--batch-size '0' is not accepted"),
    ('bench loader --dataset nope', "dataset='nope' is not accepted"),
    ('bench loader --data-root {empty}', "dataset 'cifar10' not found: looked in {empty}/cifar-10-batches-py"),
    ('bench nothing', "invalid choice: 'nothing'"),
    # packing
    ('pack {nowhere} --out {empty}/pack', 'cannot pack {nowhere}: it is not a folder'),
    # papermill experiments: bad -p values are refused before a kernel starts, in the -p vocabulary
    ('run nope', "unknown experiment 'nope'"),
    ('run train -p epoch 2', "unknown parameter 'epoch'"),
    ('run train -p epochs -1', 'epochs=-1 must be >= 1'),
    ('run train -p epochs two', "epochs='two'"),
    ('run train -p lr nan', 'lr=nan must be a finite number > 0'),
    ('run train -p seed -1', 'seed=-1 must be in [0, 4294967295]'),
    ('run speed_vs_accuracy -p max_minutes inf', 'max_minutes=inf must be a finite number > 0'),
    ('run train -p dataset nope', "dataset='nope' is not accepted"),
    ('run train -p model B_x-Wi_1', "unknown model 'B_x-Wi_1'"),
    ('run train -p dataset cifar10 -p data_root {empty}', "-p data_root"),
    ('run how_mlps_see -p data_root {empty}', "-p data_root"),
    ('run how_mlps_see -p mlp B_x-Wi_1', "unknown model 'B_x-Wi_1'"),
    ('run how_mlps_see -p checkpoints "{{mlp: B_6-Wi_512_res_64_in21k}}"', "checkpoints['mlp']='B_6-Wi_512_res_64_in21k' predicts in21k's classes; this run is on cifar10"),
    ('run how_mlps_see -p checkpoints "{{mlp: B_6-Wi_512_res_64_in21k_cifar1}}"', "checkpoints['mlp']='B_6-Wi_512_res_64_in21k_cifar1' does not exist: expected a run folder, a model.safetensors, an official weights file or a published checkpoint's name (did you mean B_6-Wi_512_res_64_in21k_cifar10"),
    ('run mechinterp -p depth -1', 'depth=-1 is not accepted: expected a block index >= 0'),
    ('run mechinterp -p sae_l1 0', 'sae_l1=0'),
    ('run mechinterp -p attr_images 0', 'attr_images=0 is not accepted: expected an integer >= 1'),
    ('run mechinterp -p checkpoints "{{cnn: B_6-Wi_512_res_64_in21k_cifar100}}"', "predicts cifar100's classes; this run is on cifar10"),
    ('run ablations -p epochs 0', 'epochs=0'),
    ('run scaling -p epochs -2', 'epochs=-2'),
    ('run speed_vs_accuracy -p models [B_x-Wi_1]', "unknown model 'B_x-Wi_1'"),
    ('sweep train', 'sweep needs at least one grid axis'),
    ('sweep train -g epochs=1,-1', 'epochs=-1 must be >= 1'),
    ('sweep train -g epochz=1,2', "unknown parameter 'epochz'"),
    ('report --runs-dir {nowhere}', '--runs-dir {nowhere} does not exist'),
    ('report --runs-dir {afile}', '--runs-dir {afile} is a file, not a folder of runs'),
    ('runs --runs-dir {nowhere}', '--runs-dir {nowhere} does not exist'),
    ('runs --runs-dir {afile}', '--runs-dir {afile} is a file, not a folder of runs'),
    ('runs --experiment trian', "--experiment 'trian' has no runs in runs; did you mean train?"),
    ('publish {nowhere}', "'{nowhere}' is not a run folder"),
    ('publish {run}', 'has no executed notebook (train.ipynb): only `mlpscale run` experiments are published'),
    ('models B_* --resolution 0', 'resolution=0 must be a positive integer'),
    ('nothing', "invalid choice: 'nothing'"),
]


def make_fixtures(root: Path) -> dict:
    "The files the cases point at, under `root`; returns the placeholder values."
    import torch
    from mlpscale.cli import main
    from mlpscale.models import create_model
    root = Path(root)
    f = {k: root / k for k in ('empty', 'nowhere', 'corrupt', 'ckpt', 'badcfg', 'busy')}
    f['empty'].mkdir(); f['ckpt'].mkdir(); f['badcfg'].mkdir(); f['busy'].mkdir()
    (f['busy'] / 'notes.txt').write_text('mine\n')
    f['afile'] = root / 'afile.txt'; f['afile'].write_text('a file\n')
    # a data root whose CIFAR-10 test batch is cut short (the other files are links to the real ones where they exist)
    real = Path(os.environ.get('MLPSCALE_DATA', '')) / 'cifar-10-batches-py'
    (f['corrupt'] / 'cifar-10-batches-py').mkdir(parents=True)
    for name in ('data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5', 'batches.meta', 'test_batch'):
        dst = f['corrupt'] / 'cifar-10-batches-py' / name
        if name == 'data_batch_1': dst.write_bytes((real / name).read_bytes()[:1000] if (real / name).exists() else b'\x80\x04cut')
        elif (real / name).exists(): dst.symlink_to(real / name)
        else: dst.write_bytes(b'')
    # runs of ours: a 10-class synthetic B-MLP at 32 px and one at 16 px
    f['run'] = root / 'runs' / 'train' / 'tiny'; f['run16'] = root / 'runs' / 'train' / 'tiny16'
    for out, res in ((f['run'], 32), (f['run16'], 16)):
        assert main(['train', '--dataset', 'synthetic', '--model', 'B_1-Wi_16', '--epochs', '1', '--resolution', str(res),
                     '--no-progress', '--out-dir', str(out)]) == 0
    # checkpoints that are not what they should be
    sd = create_model('B_1-Wi_16').state_dict()
    torch.save(sd, f['ckpt'] / 'good.pt'); full = (f['ckpt'] / 'good.pt').read_bytes()
    (f['ckpt'] / 'empty.pt').write_bytes(b'')
    (f['ckpt'] / 'truncated.pt').write_bytes(full[:len(full) // 2])
    torch.save(create_model('B_1-Wi_16'), f['ckpt'] / 'module.pt')
    torch.save({'step': 1}, f['ckpt'] / 'nostate.pt')
    torch.save({'x': _Evil()}, f['ckpt'] / 'evil.pt')
    with open(f['ckpt'] / 'protocol4.pt', 'wb') as fh: pickle.dump(sd, fh, protocol=4)   # a plain pickle: torch warns before refusing it
    torch.save({'fc.weight': torch.zeros(2, 2)}, f['ckpt'] / 'resnet.pt')
    torch.save(sd, f['badcfg'] / 'weights.pt'); (f['badcfg'] / 'config.txt').write_text('{"architecture": "B_1-Wi_16", "crop_')
    return {k: str(v) for k, v in f.items()}


class _Evil:
    "A pickle that would create a file if loading ran its code."
    def __reduce__(self): return (os.system, ('touch PWNED',))
