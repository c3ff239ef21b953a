// Package convnet is tapeml's reference image classifier: two
// convolution blocks with batch normalization and a three-layer classifier
// head, for CIFAR-10, Fashion-MNIST or a folder of a user's own images.
//
//	images [N, Channels, Height, Width]
//	→ layer1: Conv2D(→64, 3×3, pad 1) → BatchNorm2D → ReLU → MaxPool2D(2)   [N, 64, H/2, W/2]
//	→ layer2: Conv2D(→128, 3×3, pad 1) → BatchNorm2D → ReLU → MaxPool2D(2)  [N, 128, H/4, W/4]
//	→ Flatten → fc: Linear(→1024) → ReLU → Dropout(0.5)
//	→ Linear(1024→512) → ReLU → Dropout(0.5) → Linear(512→Classes)         logits [N, Classes]
//
// trained with softmax cross-entropy on class indices, SGD at lr 0.001 with
// momentum 0.9, batch 32, 10 epochs (DefaultTraining). Pooling is floor
// mode, so H/4 means ⌊⌊H/2⌋/2⌋: the first Linear is 8192 wide for 3×32×32
// images (the reference's) and 6272 for 1×28×28 ones.
//
// The PyTorch reference this follows trains on RandomResizedCrop(224)
// crops, which contradicts its own 128·8·8 = 8192-wide Linear layer: a
// 224×224 input would flatten to 128·56·56 = 401408 values, so the
// reference cannot run as written. tapeml keeps the layer sizes and crops
// to the input size instead (a random resized crop of a 32×32 image is
// resized back to 32×32), which is the only reading under which the
// 8192-wide layer fits. The first Linear therefore follows Height and
// Width rather than being fixed.
//
// Parameter names follow the PyTorch module (tools/pytorch/models.py
// ConvNet): nn.Sequential indices layer1.0 (conv), layer1.1 (batch norm),
// layer2.0, layer2.1, fc.0, fc.3, fc.6, in state_dict order, batch-norm
// buffers (running_mean, running_var, num_batches_tracked) included, so a
// tapeml checkpoint loads into PyTorch as it is.
package convnet
