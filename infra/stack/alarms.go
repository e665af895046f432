package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Periods are made per use: a package-level jsii value would start the
// jsii runtime when the package loads.
func oneMinute() awscdk.Duration   { return awscdk.Duration_Minutes(jsii.Number(1)) }
func fiveMinutes() awscdk.Duration { return awscdk.Duration_Minutes(jsii.Number(5)) }

func metric(namespace, name, statistic string, period awscdk.Duration, dims map[string]*string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(namespace),
		MetricName:    jsii.String(name),
		Statistic:     jsii.String(statistic),
		Period:        period,
		DimensionsMap: &dims,
	})
}

// alarm fires when m is above threshold in one period. Missing data (no
// failures: several AWS metrics are only sent when non-zero) is fine.
func (s *Stack) alarm(scope constructs.Construct, id, name, desc string, m awscloudwatch.IMetric, threshold float64) awscloudwatch.Alarm {
	a := awscloudwatch.NewAlarm(scope, jsii.String(id), &awscloudwatch.AlarmProps{
		AlarmName:          jsii.String(s.Name() + "-" + name),
		AlarmDescription:   jsii.String(desc),
		Metric:             m,
		Threshold:          jsii.Number(threshold),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	if s.Props.AlarmTopicArn != "" {
		topic := awssns.Topic_FromTopicArn(scope, jsii.String(id+"Topic"), jsii.String(s.Props.AlarmTopicArn))
		a.AddAlarmAction(awscloudwatchactions.NewSnsAction(topic))
	}
	s.Alarms = append(s.Alarms, a)
	return a
}

// addConsumerAlarms: the DLQ holds a message; the function failed; a failed
// event could not be written to a DLQ (by the rule's target, by Lambda's
// OnFailure destination); a stream consumer falls behind.
func (s *Stack) addConsumerAlarms(c *Consumer) {
	n := c.Decl.Name
	fn := map[string]*string{"FunctionName": c.Function.FunctionName()}
	s.alarm(c.Scope, "DlqNotEmptyAlarm", n+"-dlq-not-empty",
		"consumer "+n+": its DLQ holds messages; inspect and replay them with `troupe dlq`",
		c.DLQ.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: oneMinute()}), 0)
	s.alarm(c.Scope, "ErrorsAlarm", n+"-errors",
		"consumer "+n+": the function returned errors (they are retried, then dead-lettered)",
		metric("AWS/Lambda", "Errors", "Sum", fiveMinutes(), fn), 0)
	s.alarm(c.Scope, "DestinationFailuresAlarm", n+"-destination-failures",
		"consumer "+n+": Lambda could not write a failed event's record to the DLQ (OnFailure destination): it is lost",
		metric("AWS/Lambda", "DestinationDeliveryFailures", "Sum", fiveMinutes(), fn), 0)
	if c.Decl.OnBus() {
		rule := map[string]*string{"EventBusName": s.Bus.EventBusName(), "RuleName": c.Rule.Name()}
		s.alarm(c.Scope, "FailedInvocationsAlarm", n+"-failed-invocations",
			"consumer "+n+": EventBridge gave up delivering events to the function (they went to the DLQ)",
			metric("AWS/Events", "FailedInvocations", "Sum", fiveMinutes(), rule), 0)
		s.alarm(c.Scope, "DlqDeliveryFailedAlarm", n+"-dlq-delivery-failed",
			"consumer "+n+": EventBridge could not write undeliverable events to the DLQ: they are lost",
			metric("AWS/Events", "InvocationsFailedToBeSentToDlq", "Sum", fiveMinutes(), rule), 0)
	} else {
		s.alarm(c.Scope, "IteratorAgeAlarm", n+"-iterator-age",
			"consumer "+n+": falls behind the stream",
			metric("AWS/Lambda", "IteratorAge", "Maximum", oneMinute(), fn), float64(s.Props.IteratorAgeAlarmMillis))
	}
}

// addStackAlarms: the oldest unread record on the stream.
func (s *Stack) addStackAlarms() {
	s.alarm(s.Stack, "StreamIteratorAgeAlarm", "stream-iterator-age",
		"the stream's oldest unread record is older than the threshold: a consumer falls behind or is stuck",
		s.Stream.MetricGetRecordsIteratorAgeMilliseconds(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: oneMinute()}),
		float64(s.Props.IteratorAgeAlarmMillis))
}

// addDashboard: one row for the bus and the stream, one per consumer, and
// every alarm's state.
func (s *Stack) addDashboard() {
	bus := map[string]*string{"EventBusName": s.Bus.EventBusName()}
	graph := func(title string, left ...awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(title), Left: &left, Width: jsii.Number(8), Height: jsii.Number(6),
		})
	}
	d := awscloudwatch.NewDashboard(s.Stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName: jsii.String(s.Name()),
	})
	d.AddWidgets(
		graph("bus: events put and matched",
			metric("AWS/Events", "PutEventsApproximateSuccessCount", "Sum", fiveMinutes(), bus),
			metric("AWS/Events", "PutEventsApproximateFailedCount", "Sum", fiveMinutes(), bus),
			metric("AWS/Events", "MatchedEvents", "Sum", fiveMinutes(), bus)),
		graph("stream: records in",
			s.Stream.MetricIncomingRecords(nil),
			s.Stream.MetricPutRecordsFailedRecords(nil)),
		graph("stream: iterator age (ms)",
			s.Stream.MetricGetRecordsIteratorAgeMilliseconds(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum")})),
	)
	for _, name := range s.Names {
		c := s.Consumers[name]
		fn := map[string]*string{"FunctionName": c.Function.FunctionName()}
		third := graph(name+": iterator age (ms)", metric("AWS/Lambda", "IteratorAge", "Maximum", oneMinute(), fn))
		if c.Decl.OnBus() {
			rule := map[string]*string{"EventBusName": s.Bus.EventBusName(), "RuleName": c.Rule.Name()}
			third = graph(name+": rule deliveries",
				metric("AWS/Events", "Invocations", "Sum", fiveMinutes(), rule),
				metric("AWS/Events", "FailedInvocations", "Sum", fiveMinutes(), rule),
				metric("AWS/Events", "InvocationsFailedToBeSentToDlq", "Sum", fiveMinutes(), rule))
		}
		d.AddWidgets(
			graph(name+": invocations and errors",
				metric("AWS/Lambda", "Invocations", "Sum", fiveMinutes(), fn),
				metric("AWS/Lambda", "Errors", "Sum", fiveMinutes(), fn),
				metric("AWS/Lambda", "Throttles", "Sum", fiveMinutes(), fn)),
			graph(name+": DLQ messages",
				c.DLQ.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: oneMinute()})),
			third,
		)
	}
	alarms := make([]interfacesawscloudwatch.IAlarmRef, len(s.Alarms))
	for i, a := range s.Alarms {
		alarms[i] = a
	}
	d.AddWidgets(awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
		Title: jsii.String("alarms"), Alarms: &alarms, Width: jsii.Number(24),
	}))
	s.Dashboard = d
}
