// Package optim holds tapeml's optimizers, learning-rate schedules and
// regularization, with state that can be saved in a checkpoint and restored.
//
// Gorgonia's solvers keep their moment estimates private, so a run could not
// be resumed where it stopped. The optimizers here work on plain float32
// slices (Param), keep their state in named slots that follow PyTorch's
// optimizer state names (momentum_buffer, exp_avg, exp_avg_sq,
// max_exp_avg_sq, square_avg, grad_avg), and reproduce torch.optim 1.13's
// single-tensor update rules operation by operation in float32:
//
//	sgd      torch.optim.SGD      momentum, dampening, nesterov, weight_decay
//	adam     torch.optim.Adam     betas, eps, weight_decay, amsgrad
//	adamw    torch.optim.AdamW    the same with decoupled weight decay
//	rmsprop  torch.optim.RMSprop  alpha, eps, weight_decay, momentum, centered
//
// PyTorch's CPU kernels fuse the multiply-adds of add(x, alpha) and addcmul,
// so these do too (fma32). The golden tests replay updates recorded from
// PyTorch 1.13 (tools/pytorch/optim_golden.py) and require 1e-6 relative
// agreement; in practice the results are bit-identical, except that
// clip_grad_norm_'s float32 norm may round differently from the float64 one
// here.
//
// Each Step, in order:
//
//  1. checks every parameter and its state, so a bad call changes nothing;
//  2. adds the L1 penalty's gradient L1·sign(w), as if the penalty were part
//     of the loss;
//  3. measures the global L2 norm of all gradients (GradNorm, for logging)
//     and refuses non-finite gradients (ErrNonFiniteGrad);
//  4. scales the gradients to at most ClipNorm, exactly like
//     torch.nn.utils.clip_grad_norm_ (which also sees the L1 term, because it
//     runs after backward);
//  5. applies the algorithm, whose weight_decay, like PyTorch's, comes after
//     clipping.
//
// State and SetState copy the state out and in; restoring a state and going
// on gives bit-identical parameters to never having stopped.
//
// Learning rates come from a Schedule, a pure function of the number of
// optimizer steps taken (as nanoGPT's get_lr): Constant, StepDecay,
// Exponential and Cosine (linear warm-up then cosine decay). ReduceOnPlateau
// is the exception: like torch.optim.lr_scheduler.ReduceLROnPlateau it
// watches a validation metric once per epoch (Observe), and its state is
// saved and restored with State and SetState. NewSchedule builds any of them
// from a JSON-friendly ScheduleConfig, converting epochs to steps.
package optim
