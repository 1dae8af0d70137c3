// Package goawstest holds what tests need to talk to goaws, the SNS/SQS stand-in started by
// .ci/standins.sh: clients set up the way goaws needs, topics with subscribed queues, and a
// receive loop that survives goaws' lost responses.
package goawstest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqsschemas "github.com/aws/aws-sdk-go-v2/service/sqs/schemas"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
)

var seq atomic.Int64

// Fixture is a topic in goaws and the queues subscribed to it.
type Fixture struct {
	SNS      *sns.Client
	SQS      *sqs.Client
	TopicARN string
	suffix   string
}

// SNSClient returns an SNS client for goaws at endpoint.
func SNSClient(endpoint string) *sns.Client {
	return sns.New(sns.Options{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint)})
}

// SQSClient returns an SQS client for goaws: the query protocol (goaws rejects AWS JSON 1.0; sqs.New
// sets the protocol after reading Options, so it is switched in an option function) and no retries
// (see Drain).
func SQSClient(endpoint string) *sqs.Client {
	return sqs.New(sqs.Options{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint), RetryMaxAttempts: 1},
		func(o *sqs.Options) { o.Protocol = awsquery.New(sqsschemas.AmazonSQS) })
}

// New creates a topic (deleted when the test ends).
func New(tb testing.TB, endpoint, name string) *Fixture {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f := &Fixture{SNS: SNSClient(endpoint), SQS: SQSClient(endpoint), suffix: fmt.Sprintf("%d-%d", time.Now().UnixNano()%1e12, seq.Add(1))}
	topic, err := f.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name + "-" + f.suffix)})
	if err != nil {
		tb.Fatalf("goaws at %s: create topic: %v", endpoint, err)
	}
	f.TopicARN = aws.ToString(topic.TopicArn)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		f.SNS.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: topic.TopicArn})
	})
	return f
}

// Queue creates a queue with a 1 s visibility timeout, subscribes it to the topic with the
// subscription attributes (e.g. RawMessageDelivery, FilterPolicy) and returns its URL.
func (f *Fixture) Queue(tb testing.TB, name string, attrs map[string]string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	q, err := f.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-" + f.suffix),
		Attributes: map[string]string{"VisibilityTimeout": "1"}})
	if err != nil {
		tb.Fatalf("create queue: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		f.SQS.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: q.QueueUrl})
	})
	qa, err := f.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		tb.Fatalf("queue attributes: %v", err)
	}
	if _, err := f.SNS.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(f.TopicARN), Protocol: aws.String("sqs"),
		Endpoint: aws.String(qa.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]), Attributes: attrs}); err != nil {
		tb.Fatalf("subscribe: %v", err)
	}
	return aws.ToString(q.QueueUrl)
}

// Drain receives and deletes the messages of each queue until want distinct ones (by MessageId,
// which SQS keeps when it delivers a message again) arrived or 10 s passed; then it waits out the
// visibility timeout once and receives again, to catch any beyond want. It returns each message
// once, per queue.
//
// goaws and the SDK's query-protocol client occasionally lose a ReceiveMessage response body
// ("use of closed network connection" while deserializing); goaws has then hidden those messages
// for the queue's visibility timeout. The client does not retry (a retry would receive other
// messages and hide the first ones for good), queues have a 1 s visibility timeout, and a failed
// receive is simply repeated: the hidden messages come back and are received again.
func Drain(tb testing.TB, client *sqs.Client, want int, queues ...string) [][]sqstypes.Message {
	tb.Helper()
	seen := map[string]bool{}
	out := make([][]sqstypes.Message, len(queues))
	var lost int
	recv := func(i int) int {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		q := aws.String(queues[i])
		got, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q,
			MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"}})
		if err != nil {
			lost++
			if lost > 20 {
				tb.Fatalf("receive from %s keeps failing: %v", queues[i], err)
			}
			return -1
		}
		for _, m := range got.Messages {
			// A handle of a message that became visible again may be stale: not an error here.
			client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q, ReceiptHandle: m.ReceiptHandle})
			if id := queues[i] + " " + aws.ToString(m.MessageId); !seen[id] {
				seen[id] = true
				out[i] = append(out[i], m)
			}
		}
		return len(got.Messages)
	}
	deadline := time.Now().Add(10 * time.Second)
	for i := range queues {
		for len(out[i]) < want && time.Now().Before(deadline) {
			if recv(i) <= 0 {
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
	time.Sleep(2200 * time.Millisecond) // > visibility timeout + goaws' 1 s sweep
	for i := range queues {
		for n := 0; n < 200 && recv(i) != 0 && len(out[i]) <= want+1000; n++ {
		}
	}
	if lost > 0 {
		tb.Logf("drain: %d receive responses lost and repeated (goaws/SDK, see goawstest.Drain)", lost)
	}
	return out
}
